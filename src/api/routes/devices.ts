/**
 * A school's devices: register one (its DoH token is in the answer, once), list, change, rotate
 * the token (the new one is in the answer, once) and revoke. Tokens are never listed.
 */
import { Type } from 'typebox';
import { DEVICE_KINDS, MAX_DEVICE_LABEL } from '../../services/index.ts';
import { Id, literals, Nullable, SchoolParams } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;

const DeviceParams = Type.Object({ schoolId: Id, deviceId: Id }, strict);

const Device = Type.Object({
  id: Type.String(),
  schoolId: Type.String(),
  label: Type.String(),
  kind: literals(DEVICE_KINDS),
  personId: Nullable(Type.String()),
  personName: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  mac: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  revokedAt: Nullable(Type.String()),
});

const WithToken = Type.Object({
  device: Device,
  token: Type.String({ description: 'The DoH token: shown this once, never stored' }),
  dohPath: Type.String({ description: '/dns-query/<token>, after this server’s origin' }),
});

const Label = Type.String({ minLength: 1, maxLength: MAX_DEVICE_LABEL });
// Loose bounds here; the service says exactly what is wrong with an address.
const Ip = Nullable(Type.String({ maxLength: 64 }));
const Mac = Nullable(Type.String({ maxLength: 32 }));

const DeviceCreateBody = Type.Object(
  {
    label: Label,
    kind: literals(DEVICE_KINDS),
    personId: Type.Optional(Nullable(Id)),
    ip: Type.Optional(Ip),
    mac: Type.Optional(Mac),
  },
  strict,
);

const DeviceUpdateBody = Type.Object(
  {
    label: Type.Optional(Label),
    kind: Type.Optional(literals(DEVICE_KINDS)),
    personId: Type.Optional(Nullable(Id)),
    ip: Type.Optional(Ip),
    mac: Type.Optional(Mac),
  },
  { ...strict, minProperties: 1 },
);

export const deviceRoutes = (app: Api, { services }: RouteDeps) => {
  app.get(
    '/api/v1/schools/:schoolId/devices',
    {
      config: { access: { action: 'read', resource: 'device' } },
      schema: {
        tags: ['devices'],
        summary: 'A school’s devices (never their tokens)',
        params: SchoolParams,
        querystring: Type.Object({ includeRevoked: Type.Optional(Type.Boolean()) }, strict),
        response: { 200: Type.Object({ items: Type.Array(Device) }) },
      },
    },
    async (request) => ({
      items: await services.devices.list(request.params.schoolId, { includeRevoked: request.query.includeRevoked ?? false }),
    }),
  );

  app.post(
    '/api/v1/schools/:schoolId/devices',
    {
      config: { access: { action: 'create', resource: 'device' } },
      schema: {
        tags: ['devices'],
        summary: 'Register a device; the answer holds its DoH token, shown this once',
        params: SchoolParams,
        body: DeviceCreateBody,
        response: { 201: WithToken },
      },
    },
    async (request, reply) => reply.status(201).send(await services.devices.register(request.ctx, request.params.schoolId, request.body)),
  );

  app.patch(
    '/api/v1/schools/:schoolId/devices/:deviceId',
    {
      config: { access: { action: 'update', resource: 'device' } },
      schema: {
        tags: ['devices'],
        summary: 'Rename a device, give it to someone, or change its address or MAC',
        params: DeviceParams,
        body: DeviceUpdateBody,
        response: { 200: Type.Object({ device: Device }) },
      },
    },
    async (request) => ({
      device: await services.devices.update(request.ctx, request.params.schoolId, request.params.deviceId, request.body),
    }),
  );

  app.post(
    '/api/v1/schools/:schoolId/devices/:deviceId/rotate-token',
    {
      config: { access: { action: 'update', resource: 'device' } },
      schema: {
        tags: ['devices'],
        summary: 'Give a device a new DoH token (the old one stops working); the answer holds it, shown this once',
        params: DeviceParams,
        response: { 200: WithToken },
      },
    },
    async (request) => services.devices.rotateToken(request.ctx, request.params.schoolId, request.params.deviceId),
  );

  app.post(
    '/api/v1/schools/:schoolId/devices/:deviceId/revoke',
    {
      config: { access: { action: 'update', resource: 'device' } },
      schema: {
        tags: ['devices'],
        summary: 'Stop recognising a device (it is kept, for the log)',
        params: DeviceParams,
        response: { 200: Type.Object({ device: Device }) },
      },
    },
    async (request) => ({ device: await services.devices.revoke(request.ctx, request.params.schoolId, request.params.deviceId) }),
  );
};
