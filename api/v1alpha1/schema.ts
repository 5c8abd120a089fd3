// The ForwardForwardJob spec, defined once. The TypeScript types, the defaults, the CLI's
// validation and the CRD's OpenAPI schema all come from these TypeBox objects; the
// cross-field rules live in rules.ts. Descriptions start with the field's name because
// `kubectl explain` shows them as they are. A field with a `default` is filled in by the
// API server (and by defaultSpec), so it is never listed as required.
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_WORKER_IMAGE, MNIST_INPUT_SIZE } from './constants.js';
import { KubeObject, NullableInteger, StringEnum } from './schema-helpers.js';

/** Allowed values of the string fields, as const so the types are string unions. */
export const NEGATIVE_STRATEGIES = ['random', 'fixed', 'adaptive', 'sampled'] as const;
export const CLASSIFIERS = ['goodness', 'softmax'] as const;
export const OBJECTIVES = ['ff', 'localSoftmax'] as const;
export const RELU_GRADIENTS = ['gated', 'full'] as const;
export const DATASETS = ['mnist', 'idx'] as const;
export const OPTIMIZERS = ['adam', 'sgd'] as const;
export const LR_SCHEDULES = ['constant', 'linearDecay'] as const;
export const SCHEDULES = ['pipeline', 'rotating', 'federated'] as const;
export const EXCHANGES = ['weights', 'activations'] as const;
export const SYNC_STRATEGIES = ['allreduce', 'daso', 'signSGD', 'consensus'] as const;
export const SIGN_VOTES = ['majority', 'weighted'] as const;
export const CONSENSUS_SHARDS = ['iid', 'byLabel'] as const;
export const CONSENSUS_GRAPHS = ['ring', 'random'] as const;
export const PROXIMAL_METRICS = ['rms', 'euclidean'] as const;
export const ACTIVATION_DTYPES = ['float32', 'bfloat16'] as const;
export const BACKENDS = ['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export const CLEAN_POD_POLICIES = ['All', 'Running', 'None'] as const;
export const RESTART_POLICIES = ['OnFailure', 'ExitCode', 'Never'] as const;
export const RESTART_SCOPES = ['Group', 'Job'] as const;

const Model = Type.Object(
  {
    layers: Type.Array(Type.Integer({ minimum: 1, maximum: 65536, description: 'layers is one hidden width.' }), {
      minItems: 1,
      maxItems: 16,
      description:
        'layers is the width of each hidden layer, input side first; the input width comes from the data set. ' +
        'In the pipeline schedule the layers are split into parallelism.workers contiguous groups.',
    }),
    objective: StringEnum(OBJECTIVES, {
      default: 'ff',
      description:
        'objective is what each layer learns from: ff (goodness of positive data above the threshold, of ' +
        "negative data below) or localSoftmax (PFF's performance-optimised variant: each layer feeds a softmax " +
        'block of its own and learns from its cross-entropy; no negative data, so negatives and goodness are unused).',
    }),
    goodness: Type.Object(
      {
        threshold: Type.Number({
          exclusiveMinimum: 0,
          default: 1,
          description:
            'threshold is θ in softplus(κ(θ − g)) on goodness g = mean(h²): positive data is pushed above it, ' +
            'negative data below. Being on the mean, not the sum, it does not change with the layer width.',
        }),
        sharpness: Type.Number({
          exclusiveMinimum: 0,
          maximum: 100000,
          default: 10,
          description:
            "sharpness is κ in softplus(κ(θ − g)): how hard rows near the threshold are pushed. Hinton's " +
            'Σh² − n is κ = the layer width; κ = 1 is a very soft loss that keeps pulling on rows already ' +
            'well separated and learns far slower (93.2% against 97.4% MNIST after 3 epochs of 2×1000 units).',
        }),
      },
      { default: {}, description: 'goodness configures the per-layer objective.' },
    ),
    negatives: Type.Object(
      {
        strategy: StringEnum(NEGATIVE_STRATEGIES, {
          default: 'adaptive',
          description:
            'strategy chooses the wrong label written into negative rows: fixed (drawn once), random ' +
            '(redrawn every chapter), adaptive (the wrong label the current model finds most likely, i.e. hard ' +
            "negatives) or sampled (drawn from the model's softmax over wrong labels, as in Hinton's code).",
        }),
      },
      { default: {}, description: 'negatives configures how negative data is made.' },
    ),
    peerNormalization: Type.Object(
      {
        weight: Type.Number({
          minimum: 0,
          default: 0.03,
          description: 'weight is λ of the peer-normalisation penalty that keeps units from dying; 0 disables it.',
        }),
        momentum: Type.Number({
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0.9,
          description: "momentum is the decay of the running mean of each unit's activity, in [0, 1).",
        }),
      },
      { default: {}, description: "peerNormalization keeps every unit active by pulling its mean activity toward its peers'." },
    ),
    reluGradient: StringEnum(RELU_GRADIENTS, {
      default: 'gated',
      description:
        "reluGradient is how a layer's local gradient crosses its ReLU: gated (the true derivative, 1 where the " +
        "unit is on, 0 where it is off) or full (passed unchanged everywhere, as loeweX/Forward-Forward's " +
        'ReLU_full_grad). Gated, a unit that is off for every row gets no gradient at all and never turns on ' +
        'again, so peer normalisation cannot revive it; full lets its pull reach such units. The ff loss is the ' +
        'same under both (its gradient 2h·dL/dg is already 0 where a unit is off); under localSoftmax full also ' +
        "passes the block's cross-entropy gradient to units that are off.",
    }),
    classifier: Type.Object(
      {
        name: StringEnum(CLASSIFIERS, {
          default: 'softmax',
          description:
            'name is the prediction method: goodness (run the network once per candidate label, highest summed ' +
            'goodness wins) or softmax (one pass with a neutral label feeding a linear softmax head).',
        }),
        fromLayer: Type.Integer({
          minimum: 0,
          default: 1,
          description:
            'fromLayer is the index of the first layer whose activities count in prediction; the default 1 ' +
            'leaves out the first layer, as Hinton does. Must be less than the number of layers.',
        }),
      },
      { default: {}, description: 'classifier configures how the trained network predicts a label.' },
    ),
  },
  { description: 'model is the network: layer widths and the Forward-Forward objective.' },
);

const Dataset = Type.Object(
  {
    name: StringEnum(DATASETS, {
      default: 'mnist',
      description: 'name is the data set: mnist (shipped in the worker image) or idx (IDX files under path).',
    }),
    path: Type.String({
      maxLength: 4096,
      default: '',
      description: 'path is the directory holding the IDX files; required when name is idx, mounted from a volume.',
    }),
    inputSize: Type.Integer({
      minimum: 11,
      maximum: 16777216,
      default: MNIST_INPUT_SIZE,
      description:
        `inputSize is the width of one input row (an IDX image's rows × columns); the default ${MNIST_INPUT_SIZE} is ` +
        "MNIST's 28×28. The split of layers into groups depends on it, so it is part of the spec rather than read " +
        'from the data: set it for an idx data set of another width; each worker checks it against the IDX header ' +
        'and refuses to start when they differ. It must exceed 10, as the label is written into the first 10 inputs.',
    }),
  },
  { default: {}, description: 'dataset is the training and test data.' },
);

const Optimizer = Type.Object(
  {
    name: StringEnum(OPTIMIZERS, { default: 'adam', description: 'name is the optimiser: adam or sgd.' }),
    learningRate: Type.Number({ exclusiveMinimum: 0, default: 0.01, description: 'learningRate is the step size.' }),
    beta1: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.9,
      description: "beta1 is Adam's first-moment decay; ignored by sgd.",
    }),
    beta2: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.999,
      description: "beta2 is Adam's second-moment decay; ignored by sgd.",
    }),
    epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-8, description: "epsilon is Adam's denominator guard." }),
    weightDecay: Type.Number({ minimum: 0, default: 0, description: 'weightDecay is the L2 penalty on weights; 0 disables it.' }),
  },
  { default: {}, description: 'optimizer updates each layer from its local gradient.' },
);

const Training = Type.Object(
  {
    epochs: Type.Integer({ minimum: 1, maximum: 10000, default: 10, description: 'epochs is the number of passes over the training set.' }),
    batchSize: Type.Integer({
      minimum: 1,
      maximum: 65536,
      default: 100,
      description: 'batchSize is the number of positive rows per step (each comes with one negative row).',
    }),
    chapters: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 10,
      description:
        'chapters is the number of slices the epochs are cut into; groups exchange weights after each chapter. ' + 'At most 100 per epoch.',
    }),
    optimizer: Optimizer,
    learningRateSchedule: Type.Object(
      {
        name: StringEnum(LR_SCHEDULES, {
          default: 'linearDecay',
          description: 'name is constant or linearDecay (constant, then linear down to 0 at the end).',
        }),
        decayStartFraction: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.5,
          description: 'decayStartFraction is the fraction of training after which linearDecay starts decaying.',
        }),
      },
      { default: {}, description: 'learningRateSchedule changes the learning rate over training.' },
    ),
    seed: Type.Integer({
      minimum: 0,
      maximum: 4294967295,
      default: 1,
      description: 'seed fixes weight initialisation, data order and negative labels, so reruns repeat.',
    }),
    augmentation: Type.Object(
      {
        shiftPixels: Type.Integer({
          minimum: 0,
          maximum: 8,
          default: 0,
          description:
            'shiftPixels is k: each training image is moved by a random whole number of pixels in [−k, k] in x and ' +
            'in y, zeros filling the uncovered border; 0 turns jittering off. The shift of a row is drawn from the ' +
            'seed, the row and the epoch in which the current chapter starts, so every worker and replica, and a ' +
            'resumed run, sees the same image. Hinton reports 0.64% MNIST error with jittered images.',
        }),
      },
      {
        default: {},
        description: 'augmentation changes the training images each epoch; evaluation and test images are never changed.',
      },
    ),
    testEvery: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 1,
      description: 'testEvery is how many chapters pass between test-set evaluations; the last chapter is always evaluated.',
    }),
  },
  { default: {}, description: 'training is the length of training and how each layer is optimised.' },
);

// The DASO knobs and their defaults are those of the reference implementation, the DASO
// optimizer of helmholtz-analytics/heat (heat/optim/dp_optimizer.py), which the paper's
// runs used. heat's sending_chunk_size and downcast_type are the transport's business,
// and its local_skip is left out because node-local averaging runs every step here.
const Daso = Type.Object(
  {
    replicasPerNode: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description:
        'replicasPerNode is P, how many replicas of a group form one DASO node (on Kubernetes: pods placed on one ' +
        'node, so their traffic stays on the host); they average gradients among themselves every step. ' +
        'replicasPerGroup must be a multiple of it with at least 2 nodes. The default 1 makes every replica a node of its own.',
    }),
    globalSkip: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 4,
      description:
        'globalSkip is how many steps pass between two global synchronisations when the warm-up ends (heat: 4); ' +
        'each loss plateau then divides it by skipReductionFactor, and one more plateau at 1 resets it to maxGlobalSkip.',
    }),
    maxGlobalSkip: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 8,
      description: "maxGlobalSkip is what globalSkip resets to after a plateau at 1 (heat's max_global_skips: 8).",
    }),
    batchesToWait: Type.Integer({
      minimum: 0,
      maximum: 1024,
      default: 1,
      description:
        'batchesToWait is S when the warm-up ends (heat: 1): a global synchronisation started at one step is merged ' +
        'S steps later as (2S·x_local + Σ received) / (2S + nodes), so training goes on while it travels (and at the ' +
        'latest when the epoch ends, which always closes with a blocking average); 0 is a blocking average. At most ' +
        'globalSkip. Each plateau lowers it by 1 to no less than 1; 0 stays 0.',
    }),
    maxBatchesToWait: Type.Integer({
      minimum: 0,
      maximum: 1024,
      default: 2,
      description:
        'maxBatchesToWait is what batchesToWait resets to with globalSkip (heat: max_global_skips / local_skip_factor = 8 / 4). At most maxGlobalSkip.',
    }),
    skipReductionFactor: Type.Integer({
      minimum: 2,
      maximum: 64,
      default: 2,
      description: "skipReductionFactor is what a loss plateau divides globalSkip by (heat's skip_reduction_factor: 2).",
    }),
    warmupEpochs: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 4,
      description:
        'warmupEpochs is how many epochs at the start average across nodes after every step, blocking (heat: 4). ' +
        'With warmupEpochs + cooldownEpochs ≥ training.epochs every epoch is blocking.',
    }),
    cooldownEpochs: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 4,
      description: 'cooldownEpochs is how many epochs at the end average across nodes after every step, blocking (heat: 4).',
    }),
    plateau: Type.Object(
      {
        threshold: Type.Number({
          exclusiveMinimum: 0,
          exclusiveMaximum: 1,
          default: 0.05,
          description:
            "threshold is the relative drop below the best epoch loss so far that counts as improving (heat's stability_level: 0.05).",
        }),
        patience: Type.Integer({
          minimum: 0,
          maximum: 1000,
          default: 2,
          description:
            'patience is how many epochs in a row may fail to improve before the next one that also fails is a plateau (heat: 2, ' +
            'so the third such epoch in a row).',
        }),
      },
      {
        default: {},
        description:
          'plateau is the check, once per epoch between warm-up and cool-down, on the training loss averaged over every ' +
          'replica, that makes global synchronisations more frequent.',
      },
    ),
  },
  {
    default: {},
    description:
      'daso configures Distributed Asynchronous and Selective Optimization (Coquelin et al. 2021): node-local averaging ' +
      'every step, and global averaging every globalSkip steps by one replica per node, merged batchesToWait steps later.',
  },
);

// The signSGD-FV knobs and their defaults follow the paper's code (chanho26/SignSGD_Codec,
// main.py: T_in 100, max_LLR 10); the momentum is Signum's β (Bernstein et al. 2018).
const SignSgd = Type.Object(
  {
    vote: StringEnum(SIGN_VOTES, {
      default: 'majority',
      description:
        "vote is how the group decodes one sign per coordinate from its replicas' signs: majority (signSGD-MV, " +
        'Bernstein et al. 2019) or weighted (signSGD-FV, Park et al. 2024: after initialRounds plain majorities, replica ' +
        "k's sign counts log(p/(1 − p)), clipped to ±weightClip, where p is the fraction of coordinates so far on which k " +
        "agreed with the sign the other replicas' votes decode, so the replicas with larger batches count more).",
    }),
    initialRounds: Type.Integer({
      minimum: 0,
      maximum: 1000000,
      default: 100,
      description:
        "initialRounds is how many steps the weighted vote decodes by plain majority while it learns the replicas' agreement (the paper's T_in: 100).",
    }),
    weightClip: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1000,
      default: 10,
      description: "weightClip bounds each replica's weight in the weighted vote to [−weightClip, weightClip] (the paper's max_LLR: 10).",
    }),
    momentum: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.9,
      description:
        "momentum is Signum's β: each replica sends the sign of m ← β·m + (1 − β)·gradient rather than of its gradient; 0 is plain signSGD.",
    }),
    voteWaitSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 10,
      description:
        "voteWaitSeconds is how long replica 0, which decodes the votes, waits each step for the others' signs once its own " +
        'are ready; a vote that has not come by then is left out of that step (a smaller vote, not a hang).',
    }),
    batchSizes: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 65536, description: "batchSizes is one replica's batch." }), {
        minItems: 2,
        maxItems: 64,
        description:
          "batchSizes is each replica's batch, replica 0 first, in place of training.batchSize: a step trains on their sum, " +
          'split in this order. Unset, every replica takes training.batchSize.',
      }),
    ),
  },
  {
    default: {},
    description:
      'signSGD configures the signSGD strategy: each replica sends the signs of its momentum, packed 8 per byte, to ' +
      'replica 0, which decodes one sign per coordinate by a vote and sends it back; every replica steps by ' +
      '−learningRate × sign with training.optimizer.weightDecay, and no Adam moments or SGD momentum (the momentum is ' +
      "this object's, taken before the sign). Peer normalisation's running means are averaged as under allreduce.",
  },
);

// Decentralised training after NEXT (Di Lorenzo and Scutari, "NEXT: In-Network Nonconvex
// Optimization", arXiv 1602.00591) as Scardapane and Di Lorenzo apply it to neural networks
// ("A framework for parallel and distributed training of neural networks", arXiv 1610.07448):
// each round a replica takes a step from a strongly convex surrogate of its own loss, mixes
// with its current neighbours by Metropolis weights, and tracks the group's average gradient.
// The step-size rule is NEXT's; its constants are chosen for FF layers here (bench/data-parallel.ts part d).
const Consensus = Type.Object(
  {
    shards: StringEnum(CONSENSUS_SHARDS, {
      default: 'iid',
      description:
        'shards is how the training rows are split between the replicas, each training on its own shard only: iid (a seeded ' +
        'random split, every class everywhere) or byLabel (each replica holds classesPerShard classes, the hard case for ' +
        'decentralised training).',
    }),
    classesPerShard: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description:
        'classesPerShard is how many classes each replica holds under byLabel shards: replica r holds classes r·c … r·c + c − 1 ' +
        '(modulo the class count), and a class held by several replicas is split evenly between them. replicasPerGroup × ' +
        'classesPerShard must cover every class. Ignored with iid shards.',
    }),
    graph: StringEnum(CONSENSUS_GRAPHS, {
      default: 'ring',
      description:
        'graph is who talks to whom each round: ring (each replica with its degree nearest replicas along a seeded order of ' +
        'the replicas) or random (a seeded regular graph of that degree with random offsets along the order). Every ' +
        "round's graph is connected and has no central node.",
    }),
    degree: Type.Integer({
      minimum: 1,
      maximum: 63,
      default: 2,
      description:
        'degree is how many neighbours each replica has in a round. Less than replicasPerGroup; replicasPerGroup × degree must be ' +
        'even (an odd degree needs an even number of replicas).',
    }),
    timeVarying: Type.Boolean({
      default: true,
      description:
        "timeVarying redraws the graph every round from the job's seed (the same on every replica); false keeps round 0's graph.",
    }),
    gradientTracking: Type.Boolean({
      default: true,
      description:
        "gradientTracking makes each replica step along its estimate of the group's average gradient, mixed with its " +
        "neighbours' and corrected by the change of its own (NEXT); false steps along its own gradient: decentralised " +
        'gradient descent (DGD), the baseline.',
    }),
    stepSize: Type.Object(
      {
        initial: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.5,
          description: 'initial is α[0], the weight of the surrogate step in round 0.',
        }),
        decay: Type.Number({
          minimum: 0,
          default: 0.001,
          description: "decay is ε in NEXT's rule α[n] = α[n−1]·(1 − ε·α[n−1]), which falls like 1/(ε·n); 0 keeps α constant.",
        }),
      },
      {
        default: {},
        description:
          'stepSize is α[n]: each round a replica moves its parameters x to x + α[n]·(x̃ − x), x̃ being the minimiser of its surrogate.',
      },
    ),
    proximal: Type.Number({
      exclusiveMinimum: 0,
      default: 100,
      description:
        "proximal is τ of the surrogate's proximal term τ/2·Σ_k s_k·(x_k − x[n]_k)² beside the loss linearised at x[n]: its " +
        'minimiser is x̃ = x[n] − (tracked gradient)/(τ·s), so a round moves the parameters by α[n]/(τ·s) times the gradient. ' +
        "Under consensus this is the step size: training.optimizer's moments and learning rate do not step the parameters " +
        '(its weightDecay still applies, scaled by the learning rate).',
    }),
    proximalMetric: StringEnum(PROXIMAL_METRICS, {
      default: 'rms',
      description:
        "proximalMetric is s: rms (√v̂ + ε, v̂ the running mean of the tracked gradient's squares with training.optimizer's " +
        "beta2 and epsilon, RMSProp's scaling: each coordinate moves by about α[n]/τ) or euclidean (s = 1, NEXT's " +
        'τ/2·‖x − x[n]‖²: a plain gradient step, on which FF layers learn far slower).',
    }),
    neighbourTimeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 30,
      description:
        'neighbourTimeoutSeconds is how long a replica waits for one neighbour in a round: one that does not answer is left ' +
        'out of the round (the others mix without it) and tried again every few rounds, so a dead replica stops no one. ' +
        'Longer than any pause of a live replica between steps (an evaluation, a checkpoint).',
    }),
  },
  {
    default: {},
    description:
      'consensus configures decentralised training (NEXT; Scardapane and Di Lorenzo 2017): every replica trains on its own ' +
      'shard and mixes parameters and gradient estimates with a few neighbours per round, with no central node.',
  },
);

const Sync = Type.Object(
  {
    strategy: StringEnum(SYNC_STRATEGIES, {
      default: 'allreduce',
      description:
        "strategy is how a group's replicas keep their layers together: allreduce (every step's updates averaged over " +
        'all replicas, which stay equal), daso (averaged every step within a node, across nodes only now and then ' +
        'and without waiting: less traffic between machines), signSGD (one sign per coordinate travels, 1 bit ' +
        'instead of 32, decoded by a vote; every replica steps by the decoded signs and they stay equal) or consensus ' +
        '(decentralised: each replica trains on its own shard and mixes with a few neighbours per round, replicas ' +
        'differ a little).',
    }),
    daso: Daso,
    signSGD: SignSgd,
    consensus: Consensus,
  },
  { default: {}, description: 'sync is how the replicasPerGroup replicas of a layer group stay in step.' },
);

const Parallelism = Type.Object(
  {
    schedule: StringEnum(SCHEDULES, {
      default: 'pipeline',
      description:
        'schedule is how work is spread: pipeline (worker i owns layer group i), rotating (every worker trains ' +
        'every layer in turn, layers travel round a ring) or federated (rotating, each worker with its own data shard).',
    }),
    workers: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description: 'workers is the number of workers; in the pipeline schedule, the number of layer groups.',
    }),
    replicasPerGroup: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description: 'replicasPerGroup is the number of data-parallel replicas of each worker.',
    }),
    sync: Sync,
    exchange: StringEnum(EXCHANGES, {
      default: 'weights',
      description:
        'exchange is what travels between workers: weights (after each chapter, as in PFF) or activations ' +
        "(each batch's outputs, pipeline schedule only).",
    }),
    activationDtype: StringEnum(ACTIVATION_DTYPES, {
      default: 'float32',
      description:
        'activationDtype is how streamed activities travel when exchange is activations: float32 (exact) or ' +
        "bfloat16 (half the bytes; float32's range with an 8-bit mantissa, as pipeline-parallel trainers send activations).",
    }),
  },
  { default: {}, description: 'parallelism is how training is split over workers.' },
);

const Worker = Type.Object(
  {
    image: Type.String({
      minLength: 1,
      maxLength: 512,
      default: DEFAULT_WORKER_IMAGE,
      description: 'image is the worker container image.',
    }),
    backend: StringEnum(BACKENDS, {
      default: 'auto',
      description:
        'backend is the TensorFlow.js backend: auto (fastest that starts; webgpu only on a real GPU adapter), webgpu, tensorflow, wasm or cpu.',
    }),
    resources: KubeObject({ default: {}, description: "resources is the worker container's corev1 ResourceRequirements." }),
    template: KubeObject({
      default: {},
      description: 'template is a pod template merged over each worker pod: nodeSelector, tolerations, labels…',
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 7070, description: 'port is the gRPC port workers exchange layers on.' }),
    metricsPort: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 9090,
      description: 'metricsPort serves Prometheus metrics and must differ from port.',
    }),
  },
  { default: {}, description: 'worker is how each worker pod runs.' },
);

const Checkpoint = Type.Object(
  {
    volume: Type.Optional(
      KubeObject({
        description:
          'volume is a corev1 volume source (e.g. persistentVolumeClaim) that checkpoints are written to; ' +
          'unset, they live in an emptyDir and survive container restarts only.',
      }),
    ),
    everyChapters: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 1,
      description: 'everyChapters is how many chapters pass between checkpoints.',
    }),
  },
  { default: {}, description: 'checkpoint is where and how often workers save their layers.' },
);

const RunPolicy = Type.Object(
  {
    backoffLimit: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 3,
      description: 'backoffLimit is the number of worker restarts allowed before the job fails.',
    }),
    activeDeadlineSeconds: Type.Optional(
      NullableInteger({ minimum: 1, description: "activeDeadlineSeconds bounds the job's running time; unset or null means no bound." }),
    ),
    ttlSecondsAfterFinished: Type.Optional(
      NullableInteger({
        minimum: 0,
        description: 'ttlSecondsAfterFinished deletes the job this long after it finishes; unset or null keeps it.',
      }),
    ),
    cleanPodPolicy: StringEnum(CLEAN_POD_POLICIES, {
      default: 'Running',
      description: 'cleanPodPolicy is which pods are deleted when the job finishes: All, Running (still running) or None.',
    }),
    suspend: Type.Boolean({ default: false, description: 'suspend deletes the pods and pauses the job while true.' }),
    restartPolicy: StringEnum(RESTART_POLICIES, {
      default: 'OnFailure',
      description:
        'restartPolicy is what a failed worker pod leads to: OnFailure restarts its group from its checkpoint; ' +
        'ExitCode restarts only exit codes 128–255 (signals, OOM kills, preemption) and fails the job on 1–127 ' +
        "(the worker's own errors, which a restart would repeat); Never fails the job.",
    }),
    restartScope: StringEnum(RESTART_SCOPES, {
      default: 'Group',
      description:
        'restartScope is what a restart restarts: Group, only the failed layer group (the others keep their ' +
        'state: an FF layer needs nothing from the layers above it), or Job, every group, each from its checkpoint.',
    }),
    startupDeadlineSeconds: Type.Integer({
      minimum: 1,
      maximum: 86400,
      default: 600,
      description: 'startupDeadlineSeconds is how long all workers may take to become ready before the job fails.',
    }),
    progressDeadlineSeconds: Type.Integer({
      minimum: 1,
      maximum: 86400,
      default: 600,
      description:
        'progressDeadlineSeconds is how long a training worker may go without its chapter or step advancing (as ' +
        'Deployments have) before it is reported as stalled by name and restarted, or the job failed, per restartPolicy and ' +
        'backoffLimit. A worker waiting for an upstream group that is itself advancing is not stalled.',
    }),
    schedulerName: Type.String({
      maxLength: 253,
      default: '',
      description: "schedulerName is the pods' scheduler; empty means the default.",
    }),
    priorityClassName: Type.String({
      maxLength: 253,
      default: '',
      description: "priorityClassName is the pods' priority class; empty means none.",
    }),
  },
  { default: {}, description: "runPolicy is the job's life cycle: retries, deadlines, clean-up, suspension." },
);

/** ForwardForwardJobSpecSchema is the source of truth for spec. */
export const ForwardForwardJobSpecSchema = Type.Object(
  {
    model: Model,
    dataset: Dataset,
    training: Training,
    parallelism: Parallelism,
    worker: Worker,
    checkpoint: Checkpoint,
    runPolicy: RunPolicy,
  },
  { description: 'spec is the desired training run.' },
);

/** ForwardForwardJobSpec is a spec after defaulting: every field with a default is present. */
export type ForwardForwardJobSpec = Static<typeof ForwardForwardJobSpecSchema>;

/** ReluGradient is how a layer's local gradient crosses its ReLU (spec.model.reluGradient). */
export type ReluGradient = (typeof RELU_GRADIENTS)[number];
