// WGSL programs for one FF step on tfjs's webgpu backend. Each replaces a chain of small tfjs
// ops (square, mean, sqrt, add, div, …) with one dispatch: at the batches FF uses the step
// costs per dispatch, not per flop. tfjs prepends the bindings (`result` for the output, one
// array per variable name) and a `uniforms` struct holding every shape plus the fields of
// `uniforms` below; the maths is the one of ff-math.ts and optimizer.ts, op for op.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { ReluGradient } from '../../../api/v1alpha1/index.js';

/** Threads per workgroup; a power of two for the tree reduction. */
const WG = 256;

/** Scalars a program reads; values change every step without recompiling the shader. */
export type ProgramUniform = { type: 'float32' | 'int32'; data: number[] }[];

// One entry per scalar: tfjs aligns a longer entry as a vector, the struct declares scalars.
const f32 = (...values: number[]): ProgramUniform => values.map((v) => ({ type: 'float32', data: [v] }));
const i32 = (value: number): ProgramUniform => [{ type: 'int32', data: [value] }];

export interface FFProgram {
  program: WebGPUProgram;
  uniforms: ProgramUniform;
}

// Sums one value per thread across the workgroup. Every thread must call it (it holds
// barriers), so callers guard their loads, never the call.
const WORKGROUP_SUM = `
  var<workgroup> partial: array<f32, ${WG}>;
  fn workgroupSum(lid: i32, value: f32) -> f32 {
    partial[lid] = value;
    workgroupBarrier();
    for (var stride = ${WG / 2}; stride > 0; stride = stride / 2) {
      if (lid < stride) { partial[lid] = partial[lid] + partial[lid + stride]; }
      workgroupBarrier();
    }
    return partial[0];
  }`;

interface ProgramSpec {
  /** Names the shader in tfjs's pipeline cache: everything baked into the code goes in it. */
  key: string;
  outputShape: number[];
  variableNames: string[];
  /** Extra uniform struct fields, `name : type,` each, in the order of the uniform values. */
  uniformFields?: string;
  /** The body of main(index). */
  body: string;
  /** WGSL functions main calls. */
  helpers?: string;
}

/** One thread per output element: main(index) runs for index < size. */
function elementwise(spec: ProgramSpec): WebGPUProgram {
  const size = spec.outputShape.reduce((a, b) => a * b, 1);
  return {
    shaderKey: spec.key,
    outputShape: spec.outputShape,
    variableNames: spec.variableNames,
    uniforms: spec.uniformFields ?? '',
    size: true,
    workgroupSize: [WG, 1, 1],
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WG), 1, 1],
    getUserCode: () => `${spec.helpers ?? ''}
      fn main(index : i32) { if (index < uniforms.size) { ${spec.body} } }`,
  };
}

/**
 * One workgroup per item (a row, or one whole-vector reduction): main sees `item` and the
 * thread's `lid`, and may call workgroupSum.
 */
function perWorkgroup(spec: ProgramSpec & { workgroups: number }): WebGPUProgram {
  return {
    shaderKey: spec.key,
    outputShape: spec.outputShape,
    variableNames: spec.variableNames,
    uniforms: spec.uniformFields ?? '',
    workgroupSize: [WG, 1, 1],
    dispatchLayout: { x: [0] },
    dispatch: [spec.workgroups, 1, 1],
    getUserCode: () => `${WORKGROUP_SUM}
      ${spec.helpers ?? ''}
      fn main(index : i32) { let item = index / ${WG}; let lid = i32(localId.x); ${spec.body} }`,
  };
}

/** x̂ of the rows [pos; neg] (neg may be absent): lengthNormalise(concat(pos, neg)) in one pass per row. */
export function normaliseRows(positives: number, negatives: number | undefined, cols: number): FFProgram {
  const rows = positives + (negatives ?? 0);
  const program = perWorkgroup({
    key: negatives === undefined ? 'ffNormaliseRows1' : 'ffNormaliseRows2',
    outputShape: [rows, cols],
    workgroups: rows,
    variableNames: negatives === undefined ? ['pos'] : ['pos', 'neg'],
    helpers: `
      fn rowValue(row : i32, k : i32, cols : i32) -> f32 {
        ${negatives === undefined ? '' : 'if (row >= uniforms.posShape[0]) { return neg[(row - uniforms.posShape[0]) * cols + k]; }'}
        return pos[row * cols + k];
      }`,
    body: `
      let cols = uniforms.outShape[1];
      let inRange = item < uniforms.outShape[0];
      var squares = 0.0;
      for (var k = lid; k < cols && inRange; k = k + ${WG}) { let x = rowValue(item, k, cols); squares = squares + x * x; }
      let rms = sqrt(workgroupSum(lid, squares) / f32(cols));
      for (var k = lid; k < cols && inRange; k = k + ${WG}) { setOutputAtIndex(item * cols + k, rowValue(item, k, cols) / (rms + 1e-8)); }`,
  });
  return { program, uniforms: [] };
}

/** g = mean(h²) per row. [rows, units] → [rows] */
export function rowGoodness(rows: number): FFProgram {
  const program = perWorkgroup({
    key: 'ffRowGoodness',
    outputShape: [rows],
    workgroups: rows,
    variableNames: ['h'],
    body: `
      let units = uniforms.hShape[1];
      let inRange = item < uniforms.hShape[0];
      var squares = 0.0;
      for (var k = lid; k < units && inRange; k = k + ${WG}) { let x = h[item * units + k]; squares = squares + x * x; }
      let total = workgroupSum(lid, squares);
      if (lid == 0 && inRange) { setOutputAtIndex(item, total / f32(units)); }`,
  });
  return { program, uniforms: [] };
}

/** updatedRunningMean: m·r + (1 − m)·mean of h over the first `positives` rows. [units] */
export function runningMean(units: number, positives: number, momentum: number): FFProgram {
  const program = elementwise({
    key: 'ffRunningMean',
    outputShape: [units],
    variableNames: ['h', 'running'],
    uniformFields: 'positives : i32, momentum : f32, oneMinusMomentum : f32,',
    body: `
      var total = 0.0;
      for (var r = 0; r < uniforms.positives; r = r + 1) { total = total + h[r * uniforms.size + index]; }
      let mean = total / f32(uniforms.positives);
      setOutputAtIndex(index, running[index] * uniforms.momentum + mean * uniforms.oneMinusMomentum);`,
  });
  return { program, uniforms: [...i32(positives), ...f32(momentum, 1 - momentum)] };
}

/** peerNormalisationDelta's per-unit pull: (r − r̄)·2λ(1 − m)/(units·P). One workgroup. [units] */
export function peerPull(units: number, positives: number, weight: number, momentum: number): FFProgram {
  const program = perWorkgroup({
    key: 'ffPeerPull',
    outputShape: [units],
    workgroups: 1,
    variableNames: ['running'],
    uniformFields: 'scale : f32,',
    body: `
      let units = uniforms.outShape;
      var total = 0.0;
      for (var k = lid; k < units; k = k + ${WG}) { total = total + running[k]; }
      let mean = workgroupSum(lid, total) / f32(units);
      for (var k = lid; k < units; k = k + ${WG}) { setOutputAtIndex(k, (running[k] - mean) * uniforms.scale); }`,
  });
  return { program, uniforms: f32((2 * weight * (1 - momentum)) / (units * positives)) };
}

export interface ObjectiveShape {
  rows: number;
  positives: number;
  units: number;
  threshold: number;
  sharpness: number;
}

const OBJECTIVE_FIELDS = 'positives : i32, threshold : f32, sharpness : f32,';
const objectiveUniforms = (s: ObjectiveShape): ProgramUniform => [...i32(s.positives), ...f32(s.threshold, s.sharpness)];
// s·κ(θ − g) of row r, s = +1 on the positive rows.
const MARGIN = `
  fn margin(r : i32) -> f32 {
    return select(-1.0, 1.0, r < uniforms.positives) * ((uniforms.threshold - g[r]) * uniforms.sharpness);
  }`;

// The ReLU's gate on a gradient term (ff-math.ts's throughRelu) as a WGSL factor of h.
const GATE: Record<ReluGradient, (h: string) => string> = {
  gated: (h) => `select(0.0, 1.0, ${h} > 0.0)`,
  full: () => '1.0',
};

/**
 * δ of ffObjectiveOfActivities, plus gate(h)·pull on the positive rows when peer
 * normalisation is on (peerGate names the gate; undefined, peer normalisation is off). [rows, units]
 */
export function ffDelta(s: ObjectiveShape, peerGate: ReluGradient | undefined): FFProgram {
  const withPeer = peerGate !== undefined;
  const program = elementwise({
    key: withPeer ? `ffDeltaPeer_${peerGate}` : 'ffDelta',
    outputShape: [s.rows, s.units],
    variableNames: withPeer ? ['h', 'g', 'pull'] : ['h', 'g'],
    uniformFields: `${OBJECTIVE_FIELDS} rowsOverSharpness : f32, twoOverUnits : f32,`,
    helpers: MARGIN,
    body: `
      let units = uniforms.hShape[1];
      let row = index / units;
      let s = select(-1.0, 1.0, row < uniforms.positives);
      let dLdg = (-s * (1.0 / (1.0 + exp(-margin(row))))) / uniforms.rowsOverSharpness;
      let x = h[index];
      var delta = dLdg * (x * uniforms.twoOverUnits);
      ${withPeer ? `if (row < uniforms.positives) { delta = delta + ${GATE[peerGate]('x')} * pull[index % units]; }` : ''}
      setOutputAtIndex(index, delta);`,
  });
  return { program, uniforms: [...objectiveUniforms(s), ...f32(s.rows / s.sharpness, 2 / s.units)] };
}

export type GoodnessStat = 'loss' | 'goodnessPos' | 'goodnessNeg';

// tfjs's own softplus (unary_op_util.ts), so that the loss matches the unfused one.
const SOFTPLUS = `
  fn softplus(a : f32) -> f32 {
    let threshold = log(1.1920928955078125e-7) + 2.0;
    if (a > -threshold) { return a; }
    if (a < threshold) { return exp(a); }
    return log(exp(a) + 1.0);
  }`;

const STAT_RANGE: Record<GoodnessStat, [string, string, string]> = {
  loss: ['0', 'uniforms.gShape', 'softplus(margin(r))'],
  goodnessPos: ['0', 'uniforms.positives', 'g[r]'],
  goodnessNeg: ['uniforms.positives', 'uniforms.gShape', 'g[r]'],
};

/**
 * One scalar over g in one workgroup: the FF loss mean(softplus(s·κ(θ − g))), or the mean
 * goodness of the positive or of the negative rows. [1]
 */
export function goodnessStat(stat: GoodnessStat, s: ObjectiveShape): FFProgram {
  const [from, to, term] = STAT_RANGE[stat];
  const program = perWorkgroup({
    key: `ffStat_${stat}`,
    outputShape: [1],
    workgroups: 1,
    variableNames: ['g'],
    uniformFields: OBJECTIVE_FIELDS,
    helpers: `${MARGIN}${SOFTPLUS}`,
    body: `
      var total = 0.0;
      for (var r = ${from} + lid; r < ${to}; r = r + ${WG}) { total = total + ${term}; }
      let sum = workgroupSum(lid, total);
      if (lid == 0) { setOutputAtIndex(0, sum / f32(${to} - ${from})); }`,
  });
  return { program, uniforms: objectiveUniforms(s) };
}

/** db = Σrows δ, times `scale`. [rows, units] → [units] */
export function columnSum(units: number, scale = 1): FFProgram {
  const program = elementwise({
    key: 'ffColumnSum',
    outputShape: [units],
    variableNames: ['delta'],
    uniformFields: 'scale : f32,',
    body: `
      var total = 0.0;
      for (var r = 0; r < uniforms.deltaShape[0]; r = r + 1) { total = total + delta[r * uniforms.size + index]; }
      setOutputAtIndex(index, total * uniforms.scale);`,
  });
  return { program, uniforms: f32(scale) };
}

export type UpdateOutput = 'adamM' | 'adamV' | 'adamValue' | 'sgdM' | 'sgdValue';

export interface UpdateScalars {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − lr·weightDecay: decoupled decay of the weights. */
  decay: number;
  lr: number;
  /** Adam's bias-corrected step size. */
  stepSize: number;
}

// The new moments, written as expressions so the weight update can recompute them instead of
// waiting for a second pass: a tfjs program has one output.
// 1 − β comes in as a uniform computed in float64, as tfjs's scalar does: 1.0 − 0.999 in
// float32 is 4.7e-5 off in relative terms.
const ADAM_M = '(m[index] * uniforms.beta1 + grad[index] * uniforms.oneMinusBeta1)';
const ADAM_V = '(v[index] * uniforms.beta2 + (grad[index] * grad[index]) * uniforms.oneMinusBeta2)';
const SGD_M = '(m[index] * uniforms.beta1 + grad[index])';

export type UpdateInput = 'value' | 'm' | 'v' | 'grad';

// Each program binds only the tensors it reads: WebGPU's automatic layout drops unused
// bindings, and tfjs would then bind a buffer to a slot the shader does not have.
const UPDATES: Record<UpdateOutput, { inputs: UpdateInput[]; expression: string }> = {
  adamM: { inputs: ['m', 'grad'], expression: ADAM_M },
  adamV: { inputs: ['v', 'grad'], expression: ADAM_V },
  adamValue: {
    inputs: ['value', 'm', 'v', 'grad'],
    expression: `value[index] * uniforms.decay - (${ADAM_M} / (sqrt(${ADAM_V}) + uniforms.epsilon)) * uniforms.stepSize`,
  },
  sgdM: { inputs: ['m', 'grad'], expression: SGD_M },
  sgdValue: { inputs: ['value', 'm', 'grad'], expression: `value[index] * uniforms.decay - ${SGD_M} * uniforms.lr` },
};

/** One of the tensors applyUpdate (optimizer.ts) writes, elementwise from the old ones; run it on `inputs`. */
export function paramUpdate(output: UpdateOutput, shape: number[], k: UpdateScalars): FFProgram & { inputs: UpdateInput[] } {
  const { inputs, expression } = UPDATES[output];
  const program = elementwise({
    key: `ffUpdate_${output}`,
    outputShape: shape,
    variableNames: inputs,
    uniformFields:
      'beta1 : f32, beta2 : f32, oneMinusBeta1 : f32, oneMinusBeta2 : f32, epsilon : f32, decay : f32, lr : f32, stepSize : f32,',
    body: `setOutputAtIndex(index, ${expression});`,
  });
  return { program, inputs, uniforms: f32(k.beta1, k.beta2, 1 - k.beta1, 1 - k.beta2, k.epsilon, k.decay, k.lr, k.stepSize) };
}

// Layer 0 on images (label-scores.ts): x̂W splits into the image's share xw, computed once,
// and the label's row of W; the row's scale comes from Σx² of the blank image plus the
// label's Σv². Row r of [pos; neg] uses image r mod P.
const LAYER0 = `
  fn layer0(image : i32, unit : i32, labelShare : f32, labelSquares : f32) -> f32 {
    let units = uniforms.xwShape[1];
    let rms = sqrt((squares[image] + labelSquares) / f32(uniforms.inputs));
    return max((xw[image * units + unit] + labelShare) / (rms + 1e-8) + b[unit], 0.0);
  }`;

/** h of firstLayerWithLabels for the rows [yPos; yNeg] of the same images. [2P, units] */
export function labelledActivities(images: number, units: number, inputs: number): FFProgram {
  const program = elementwise({
    key: 'ffLabelledActivities',
    outputShape: [2 * images, units],
    variableNames: ['xw', 'squares', 'labelRows', 'b', 'yPos', 'yNeg'],
    uniformFields: 'inputs : i32,',
    helpers: LAYER0,
    body: `
      let units = uniforms.xwShape[1];
      let row = index / units;
      let unit = index % units;
      let images = uniforms.xwShape[0];
      let image = row % images;
      let label = select(i32(yNeg[image]), i32(yPos[image]), row < images);
      setOutputAtIndex(index, layer0(image, unit, labelRows[label * units + unit], 1.0));`,
  });
  return { program, uniforms: i32(inputs) };
}

/** h of firstLayerNeutral: 1/classes in every label slot. [P, units] */
export function neutralActivities(images: number, units: number, inputs: number): FFProgram {
  const program = elementwise({
    key: 'ffNeutralActivities',
    outputShape: [images, units],
    variableNames: ['xw', 'squares', 'labelRows', 'b'],
    uniformFields: 'inputs : i32,',
    helpers: LAYER0,
    body: `
      let units = uniforms.xwShape[1];
      let unit = index % units;
      let classes = uniforms.labelRowsShape[0];
      var total = 0.0;
      for (var c = 0; c < classes; c = c + 1) { total = total + labelRows[c * units + unit]; }
      setOutputAtIndex(index, layer0(index / units, unit, total * (1.0 / f32(classes)), 1.0 / f32(classes)));`,
  });
  return { program, uniforms: i32(inputs) };
}

// 1/r of image i, shared by its positive and negative row: one-hot labels add 1 to Σx².
const INV_R = `
  fn invR(image : i32) -> f32 { return 1.0 / (sqrt((squares[image] + 1.0) / f32(uniforms.inputs)) + 1e-8); }`;

/** (δ_pos + δ_neg)/r per image: what the blank image's share of dW multiplies. [P, units] */
export function pairedDelta(images: number, units: number, inputs: number): FFProgram {
  const program = elementwise({
    key: 'ffPairedDelta',
    outputShape: [images, units],
    variableNames: ['delta', 'squares'],
    uniformFields: 'inputs : i32,',
    helpers: INV_R,
    body: `
      let scale = invR(index / uniforms.deltaShape[1]);
      setOutputAtIndex(index, delta[index] * scale + delta[index + uniforms.size] * scale);`,
  });
  return { program, uniforms: i32(inputs) };
}

/** dW = imageShare plus, on the label slots' rows, Σ over rows with that label of δ/r. [in, units] */
export function addLabelShare(inputs: number, units: number, classes: number): FFProgram {
  const program = elementwise({
    key: 'ffAddLabelShare',
    outputShape: [inputs, units],
    variableNames: ['imageShare', 'delta', 'squares', 'yPos', 'yNeg'],
    uniformFields: 'inputs : i32, classes : i32,',
    helpers: INV_R,
    body: `
      let units = uniforms.deltaShape[1];
      let slot = index / units;
      var share = 0.0;
      let images = select(0, uniforms.squaresShape[0], slot < uniforms.classes);
      for (var r = 0; r < 2 * images; r = r + 1) {
        let image = r % images;
        let label = select(i32(yNeg[image]), i32(yPos[image]), r < images);
        if (label == slot) { share = share + delta[r * units + index % units] * invR(image); }
      }
      setOutputAtIndex(index, imageShare[index] + share);`,
  });
  return { program, uniforms: [...i32(inputs), ...i32(classes)] };
}

// localSoftmax (ff-math.ts's localSoftmaxObjective): logits = f·V + c with f = h/√units, here
// scale·(hV) + c; tfjs's logSoftmax: logits − max − log Σ exp(logits − max).
const LOG_SOFTMAX = `
  fn logProb(row : i32, k : i32) -> f32 {
    let classes = uniforms.hvShape[1];
    var top = -3.4e38;
    for (var j = 0; j < classes; j = j + 1) { top = max(top, logit(row, j)); }
    var total = 0.0;
    for (var j = 0; j < classes; j = j + 1) { total = total + exp(logit(row, j) - top); }
    return logit(row, k) - top - log(total);
  }
  fn logit(row : i32, k : i32) -> f32 { return hv[row * uniforms.hvShape[1] + k] * uniforms.scale + c[k]; }`;

/**
 * scale·dlogits = scale·(softmax − onehot)/rows: scaled once here so that dV = hᵀ·this and
 * dL/dz = this·Vᵀ ⊙ 1[h > 0] need no further pass; dc divides the scale out. [rows, classes]
 */
export function scaledSoftmaxGradient(rows: number, classes: number, scale: number): FFProgram {
  const program = elementwise({
    key: 'ffScaledSoftmaxGradient',
    outputShape: [rows, classes],
    variableNames: ['hv', 'c', 'labels'],
    uniformFields: 'scale : f32,',
    helpers: LOG_SOFTMAX,
    body: `
      let row = index / uniforms.hvShape[1];
      let k = index % uniforms.hvShape[1];
      let wanted = select(0.0, 1.0, i32(labels[row]) == k);
      setOutputAtIndex(index, ((exp(logProb(row, k)) - wanted) / f32(uniforms.hvShape[0])) * uniforms.scale);`,
  });
  return { program, uniforms: f32(scale) };
}

/** The cross-entropy −mean log p(label) in one workgroup. [1] */
export function softmaxLoss(scale: number): FFProgram {
  const program = perWorkgroup({
    key: 'ffSoftmaxLoss',
    outputShape: [1],
    workgroups: 1,
    variableNames: ['hv', 'c', 'labels'],
    uniformFields: 'scale : f32,',
    helpers: LOG_SOFTMAX,
    body: `
      let rows = uniforms.hvShape[0];
      var total = 0.0;
      for (var r = lid; r < rows; r = r + ${WG}) { total = total + logProb(r, i32(labels[r])); }
      let sum = workgroupSum(lid, total);
      if (lid == 0) { setOutputAtIndex(0, -sum / f32(rows)); }`,
  });
  return { program, uniforms: f32(scale) };
}

export type SoftmaxDeltaInput = 'back' | 'h' | 'pull';

/**
 * dL/dz = (scale·dlogits·Vᵀ) ⊙ gate(h), plus gate(h)·pull on every row when peer
 * normalisation is on; run it on `inputs`. Under full the gate is 1 and h is not read, so it
 * is not bound either (see UPDATES). [rows, units]
 */
export function localSoftmaxDelta(
  rows: number,
  units: number,
  withPeer: boolean,
  relu: ReluGradient,
): FFProgram & { inputs: SoftmaxDeltaInput[] } {
  const inputs: SoftmaxDeltaInput[] = ['back', ...(relu === 'gated' ? (['h'] as const) : []), ...(withPeer ? (['pull'] as const) : [])];
  const program = elementwise({
    key: `ffLocalSoftmaxDelta${withPeer ? 'Peer' : ''}_${relu}`,
    outputShape: [rows, units],
    variableNames: inputs,
    body: `
      let on = ${GATE[relu]('h[index]')};
      setOutputAtIndex(index, back[index] * on${withPeer ? ' + on * pull[index % uniforms.backShape[1]]' : ''});`,
  });
  return { program, inputs, uniforms: [] };
}
