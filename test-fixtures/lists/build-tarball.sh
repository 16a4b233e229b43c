#!/bin/sh
# Rebuilds ut1-blacklists.tar.gz from tree/ut1 in UT1's published layout (blacklists/<list>/…),
# with UT1's alias symlink porn -> adult. Run from this folder with GNU tar.
set -eu
work=$(mktemp -d)
cp -r tree/ut1 "$work/blacklists"
ln -s adult "$work/blacklists/porn"
tar -C "$work" --owner=0 --group=0 --numeric-owner --sort=name --mtime=2026-01-01 -czf ut1-blacklists.tar.gz blacklists
rm -rf "$work"
