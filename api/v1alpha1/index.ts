// The ForwardForwardJob API, v1alpha1: import from here, not from the files behind it.
export {
  API_VERSION,
  CRD_NAME,
  DEFAULT_WORKER_IMAGE,
  DIVERGED,
  GROUP,
  KIND,
  LIST_KIND,
  MNIST_INPUT_SIZE,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from './constants.js';
export {
  BACKENDS,
  CLASSIFIERS,
  CLEAN_POD_POLICIES,
  DATASETS,
  EXCHANGES,
  ForwardForwardJobSpecSchema,
  LR_SCHEDULES,
  NEGATIVE_STRATEGIES,
  OPTIMIZERS,
  RELU_GRADIENTS,
  RESTART_POLICIES,
  RESTART_SCOPES,
  SCHEDULES,
  SIGN_VOTES,
  SYNC_STRATEGIES,
  type ForwardForwardJobSpec,
  type ReluGradient,
} from './schema.js';
export { CONDITION_STATUSES, ForwardForwardJobStatusSchema, type ForwardForwardJobStatus } from './status.js';
export { type ForwardForwardJob, type ObjectMeta, validateJob } from './job.js';
export { defaultSpec, SPEC_OPENAPI, validateSpec, type ForwardForwardJobSpecInput } from './validate.js';
export { parseJobYaml, SpecError } from './parse.js';
export { MAX_CHAPTERS_PER_EPOCH, MAX_DNS_LABEL, OBJECT_RULES, RULES, workerNameSuffix, type ObjectRule, type Rule } from './rules.js';
export { CRD_FILE, crdObject, renderCrdYaml } from './crd.js';
export { groupCosts, layerCosts, layerGroups } from './layer-groups.js';
export {
  dasoNode,
  finalGroup,
  groupLayers,
  isRing,
  peerGroups,
  replicaBatches,
  scoresRoute,
  workerCount,
  type PeerGroups,
} from './workers.js';
export { parseHostPort, parseWorkerArgs, workerArgs, type WorkerArgs, type WorkerPlace, type WorkerSlot } from './worker-args.js';
export { unsupportedFeatures } from './supported.js';
export { HOST_ACCESS_RULES, hostAccessCel, hostAccessViolations, ruleMessage, type HostAccessRule } from './host-access.js';
export { hostAccessBinding, hostAccessPolicy, POLICY_TEMPLATE_FILE, renderPolicyTemplate } from './admission-policy.js';
export { DEFAULT_MEMORY_CAP, estimateWorker, memoryProblems, parseMemory, RUNTIME_BYTES, type MemoryEstimate } from './memory-estimate.js';
