import tseslint from 'typescript-eslint';

// The programs sit side by side and share only the contract (api/), observability (observe/)
// and the wire (proto/): an import across these lines fails lint. The CLI may use the worker
// (`ffjob worker`, eval and predict run it in-process), never the operator.
const forbidden = (folders, why) => ({
  'no-restricted-imports': ['error', { patterns: [{ regex: `(^|/)(${folders.join('|')})/`, message: why }] }],
});
const boundaries = [
  {
    files: ['operator/**/*.ts'],
    rules: forbidden(['worker', 'cli'], 'operator/ must not import worker/ or cli/: share through api/, observe/ or proto/.'),
  },
  {
    files: ['worker/**/*.ts'],
    rules: forbidden(['operator', 'cli'], 'worker/ must not import operator/ or cli/: share through api/, observe/ or proto/.'),
  },
  { files: ['cli/**/*.ts'], rules: forbidden(['operator'], 'cli/ must not import operator/: share through api/ or observe/.') },
  {
    files: ['api/**/*.ts', 'observe/**/*.ts'],
    rules: forbidden(['operator', 'worker', 'cli'], 'api/ and observe/ are shared by every program and import none of them.'),
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'proto/gen/**', 'runs/**', 'dist/**', '.cache/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      complexity: ['warn', 12],
      'max-depth': ['warn', 3],
      'max-params': ['warn', 4],
    },
  },
  ...boundaries,
);
