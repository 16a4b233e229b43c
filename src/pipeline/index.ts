/**
 * @module pipeline — monitoring: ingest → rules → alerts → notify, and rollups. Not built yet:
 * `haven serve --role worker` says so.
 */
export {};
