// Developer CLI: starts a local control plane and waits for Ctrl-C.
//   node --import tsx test/cluster/start.ts [--dir DIR]
import { startControlPlane } from './control-plane.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf('--dir');
  const dir = i >= 0 ? args[i + 1] : undefined;
  const t0 = Date.now();
  const cp = await startControlPlane(dir ? { dir } : {});
  console.error(`control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${cp.server} (logs in ${cp.dir})`);
  console.log(`export KUBECONFIG=${cp.kubeconfig}`);
  console.log(`export PATH=${cp.binDir}:$PATH  # kubectl matching the apiserver`);
  console.error('Ctrl-C to stop');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.error('stopping...');
    cp.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Keep the event loop alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
