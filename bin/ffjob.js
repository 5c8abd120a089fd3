#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx so that the local runner, the pods and
// the tests execute one and the same code without a separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../worker/cli/main.ts');
