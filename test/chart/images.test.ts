// The Dockerfiles, checked without a Docker daemon: multi-stage, a non-root final stage that
// runs the compiled dist/ (no tsx), the CUDA 11.2 / cuDNN 8 base for the GPU worker, image
// names that match the chart and the CRD's default, and — the part that breaks silently —
// every source file the entry point imports (the whole static and dynamic import graph, as
// TypeScript resolves it) lies under a path the build stage copies and .dockerignore keeps.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { parse } from 'yaml';
import { DEFAULT_WORKER_IMAGE } from '../../api/v1alpha1/index.js';
import { CHART, ROOT } from './chart.js';

interface Image {
  file: string;
  /** repository the header comment names; the tag is the chart's appVersion. */
  repository: string;
  entries: string[];
}

const chartImage = (parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { image: { repository: string } }).image.repository;
const workerRepository = DEFAULT_WORKER_IMAGE.slice(0, DEFAULT_WORKER_IMAGE.lastIndexOf(':'));
const IMAGES: Image[] = [
  { file: 'operator.Dockerfile', repository: chartImage, entries: ['operator/main.ts'] },
  { file: 'worker-cpu.Dockerfile', repository: workerRepository, entries: ['cli/main.ts', 'worker/worker.ts'] },
  { file: 'worker-gpu.Dockerfile', repository: workerRepository, entries: ['cli/main.ts', 'worker/worker.ts'] },
  { file: 'worker-gpu-cuda.Dockerfile', repository: workerRepository, entries: ['cli/main.ts', 'worker/worker.ts'] },
];

const graphs = new Map<string, string[]>();

/** importGraph lists the repository files (not node_modules) reachable from `entries`. */
function importGraph(entries: string[]): string[] {
  const key = entries.join(' ');
  if (!graphs.has(key)) graphs.set(key, resolveGraph(entries));
  return graphs.get(key)!;
}

function resolveGraph(entries: string[]): string[] {
  const program = ts.createProgram(
    entries.map((e) => join(ROOT, e)),
    {
      allowJs: true,
      noEmit: true,
      types: [],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    },
  );
  return program
    .getSourceFiles()
    .map((f) => relative(ROOT, f.fileName))
    .filter((f) => !f.startsWith('..') && !f.includes('node_modules'));
}

/** finalStage returns the instructions after the last FROM. */
function finalStage(dockerfile: string): string {
  return dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
}

/** buildStage returns the instructions of the stage named `build`, which compiles dist/. */
function buildStage(dockerfile: string): string {
  const start = dockerfile.search(/^FROM \S+ AS build$/m);
  assert.ok(start >= 0, 'a build stage (FROM … AS build) compiles the sources');
  const end = dockerfile.indexOf('\nFROM ', start);
  return dockerfile.slice(start, end < 0 ? undefined : end);
}

/** copiedFromContext lists the sources of the final stage's COPY instructions that read the build context. */
function copiedFromContext(stage: string): string[] {
  return [...stage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap(([, args]) => args!.trim().split(/\s+/).slice(0, -1));
}

function dockerignored(path: string): boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  return patterns.some((p) =>
    p.startsWith('**/*') ? path.endsWith(p.slice(4)) : path === p || path.startsWith(`${p}/`) || (p === '*.md' && path.endsWith('.md')),
  );
}

void describe('Dockerfiles', () => {
  for (const image of IMAGES) {
    void it(`${image.file}: multi-stage, non-root, named ${image.repository}, copies every file its entry point imports`, () => {
      const text = readFileSync(join(ROOT, 'deploy', 'docker', image.file), 'utf8');
      assert.ok((text.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
      assert.doesNotMatch(text, /^(ARG \w+=|FROM )\S*:latest\b/m, 'no floating base tags');
      const stage = finalStage(text);
      assert.match(stage, /^USER 1000:1000$/m, "the final stage runs as uid 1000, the chart's and the worker pods' runAsUser");
      assert.match(text, new RegExp(`^# Image: ${image.repository.replaceAll('.', '\\.')}:<version>`, 'm'));
      assert.match(stage, /^COPY --from=build \/app\/dist \.\/dist$/m, 'the final stage takes the compiled program');
      assert.doesNotMatch(stage, /tsx|\.ts\b/, 'nothing runs TypeScript at run time');
      const build = buildStage(text);
      assert.match(build, /^RUN npx tsc -p tsconfig\.build\.json$/m);
      const copied = [...copiedFromContext(build), ...copiedFromContext(stage)];
      for (const c of copied) assert.equal(dockerignored(c), false, `${c} is copied but .dockerignore drops it`);
      const missing = importGraph(image.entries).filter((f) => !copied.some((c) => f === c || f.startsWith(`${c}/`)));
      assert.deepEqual(missing, [], 'imported but not copied into the build');
    });
  }

  void it('the GPU worker needs no CUDA: plain Node, the Vulkan loader and glvnd for Dawn, and the graphics capability', () => {
    const text = readFileSync(join(ROOT, 'deploy', 'docker', 'worker-gpu.Dockerfile'), 'utf8');
    assert.doesNotMatch(text, /^(FROM|ARG) .*cuda/im, 'no CUDA base image');
    assert.match(finalStage(text), /^FROM \$\{NODE_IMAGE\}$/m);
    for (const lib of ['libvulkan1', 'libglvnd0', 'libegl1', 'libgl1', 'libglx0', 'libopengl0', 'libgles2'])
      assert.match(finalStage(text), new RegExp(`\\b${lib}\\b`));
    assert.match(text, /NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
  });

  void it('the CUDA GPU worker builds on CUDA 11.2 with cuDNN 8, which @tensorflow/tfjs-node-gpu 4.x needs', () => {
    const text = readFileSync(join(ROOT, 'deploy', 'docker', 'worker-gpu-cuda.Dockerfile'), 'utf8');
    assert.match(text, /^ARG CUDA_IMAGE=nvidia\/cuda:11\.2\.\d+-cudnn8-runtime-ubuntu\S+$/m);
    assert.match(finalStage(text), /^FROM \$\{CUDA_IMAGE\}$/m);
    assert.match(text, /tfjs-node-gpu@\$\{TFJS_VERSION\}/);
  });
});
