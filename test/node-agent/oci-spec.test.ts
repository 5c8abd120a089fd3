import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { capabilities, commandLine, DEFAULT_CAPABILITIES, identity, ociSpec } from './oci-spec.js';
import type { ImageConfig } from '../images/images.js';

const IMAGE: ImageConfig = {
  Entrypoint: ['node', 'bin/ffjob.js'],
  WorkingDir: '/app',
  Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production'],
  User: '1000:1000',
};

function pod(securityContext: NonNullable<V1Pod['spec']>['securityContext'] = {}, container: Partial<V1Container> = {}): V1Pod {
  return {
    metadata: { name: 'p', uid: 'u' },
    spec: { hostname: 'p-host', securityContext, containers: [{ name: 'worker', ...container }] },
  };
}

void describe('commandLine', () => {
  const cases: { name: string; container: Partial<V1Container>; image: ImageConfig; want?: string[]; wantError?: RegExp }[] = [
    {
      name: 'command and args replace the entrypoint and its cmd',
      container: { command: ['sh'], args: ['-c', 'true'] },
      image: { Entrypoint: ['node'], Cmd: ['x'] },
      want: ['sh', '-c', 'true'],
    },
    {
      name: 'a command alone drops the image cmd',
      container: { command: ['sh'] },
      image: { Entrypoint: ['node'], Cmd: ['x'] },
      want: ['sh'],
    },
    {
      name: 'args alone follow the image entrypoint',
      container: { args: ['worker'] },
      image: { Entrypoint: ['node', 'bin/ffjob.js'], Cmd: ['--help'] },
      want: ['node', 'bin/ffjob.js', 'worker'],
    },
    { name: 'neither takes the image entrypoint and cmd', container: {}, image: { Entrypoint: ['node'], Cmd: ['x'] }, want: ['node', 'x'] },
    {
      name: 'nothing anywhere is an error naming the container',
      container: {},
      image: {},
      wantError: /container worker: neither it nor its image names a command/,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const container = { name: 'worker', ...c.container };
      if (c.wantError) assert.throws(() => commandLine(container, c.image), c.wantError);
      else assert.deepEqual(commandLine(container, c.image), c.want);
    });
  }
});

void describe('capabilities', () => {
  const cases: { name: string; caps?: { drop?: string[]; add?: string[] }; want: string[] }[] = [
    { name: 'no settings keep the runtime default set', want: DEFAULT_CAPABILITIES },
    { name: 'drop ALL leaves none', caps: { drop: ['ALL'] }, want: [] },
    { name: 'drop ALL then add one leaves that one', caps: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, want: ['CAP_NET_BIND_SERVICE'] },
    { name: 'dropping one keeps the rest', caps: { drop: ['NET_RAW'] }, want: DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW') },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepEqual(capabilities({ name: 'w', securityContext: { capabilities: c.caps } }), c.want));
  }
});

void describe('identity', () => {
  const cases: { name: string; pod: V1Pod; image: ImageConfig; want?: object; wantError?: RegExp }[] = [
    {
      name: 'the pod security context wins over the image user, fsGroup is a supplementary group',
      pod: pod({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, runAsNonRoot: true }),
      image: { User: '0:0' },
      want: { uid: 1000, gid: 1000, additionalGids: [2000] },
    },
    {
      name: 'the container security context wins over the pod',
      pod: pod({ runAsUser: 1000 }, { securityContext: { runAsUser: 1001 } }),
      image: {},
      want: { uid: 1001, gid: 0, additionalGids: [] },
    },
    {
      name: 'without either the image user applies',
      pod: pod(),
      image: { User: '1000:1000' },
      want: { uid: 1000, gid: 1000, additionalGids: [] },
    },
    {
      name: 'runAsNonRoot refuses an image that runs as root',
      pod: pod({ runAsNonRoot: true }),
      image: { User: '0' },
      wantError: /runAsNonRoot is set and the image will run as root/,
    },
    {
      name: 'runAsNonRoot refuses a user name it cannot check',
      pod: pod({ runAsNonRoot: true }),
      image: { User: 'node' },
      wantError: /image's user "node" is not numeric/,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const container = c.pod.spec!.containers[0]!;
      if (c.wantError) assert.throws(() => identity(c.pod, container, c.image), c.wantError);
      else assert.deepEqual(identity(c.pod, container, c.image), c.want);
    });
  }
});

void describe('ociSpec', () => {
  const chart = pod(
    { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
    {
      command: ['node', 'bin/ffjob.js'],
      args: ['worker', '--listen', '0.0.0.0:7070'],
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    },
  );
  const spec = ociSpec({
    pod: chart,
    container: chart.spec!.containers[0]!,
    image: { rootfs: '/images/worker/rootfs', config: IMAGE },
    env: { FFJOB_GROUP: '1', NODE_ENV: 'test' },
    mounts: [
      { source: '/agent/p/volumes/tmp', target: '/tmp', readOnly: false },
      { source: '/agent/p/hosts', target: '/etc/hosts', readOnly: true },
    ],
    argv: (argv) => argv.map((a) => a.replace('0.0.0.0', '127.100.0.1')),
  }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  void it('runs the pod command with narrowed addresses in the image working directory as uid 1000', () => {
    assert.deepEqual(spec.process.args, ['node', 'bin/ffjob.js', 'worker', '--listen', '127.100.0.1:7070']);
    assert.equal(spec.process.cwd, '/app');
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000, additionalGids: [1000] });
  });

  void it('applies the chart security settings: read-only root, no capabilities, no privilege escalation', () => {
    assert.deepEqual(spec.root, { path: '/images/worker/rootfs', readonly: true });
    assert.deepEqual(spec.process.capabilities, { bounding: [], effective: [], permitted: [] });
    assert.equal(spec.process.noNewPrivileges, true);
  });

  void it('adds the pod env over the image env and keeps the host network', () => {
    assert.deepEqual(spec.process.env, ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=test', 'FFJOB_GROUP=1']);
    assert.ok(!spec.linux.namespaces.some((n: { type: string }) => n.type === 'network'), 'no network namespace');
  });

  void it('bind-mounts the volumes with their read-only flags', () => {
    const binds = spec.mounts.filter((m: { source: string }) => m.source.startsWith('/agent/'));
    assert.deepEqual(
      binds.map((m: { destination: string; options: string[] }) => [m.destination, m.options.at(-1)]),
      [
        ['/tmp', 'rw'],
        ['/etc/hosts', 'ro'],
      ],
    );
  });
});
