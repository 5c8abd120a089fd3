// What a group streams to the next under `exchange: activations`: exactly what the next
// group would otherwise stage through the upstream layers (chapter-inputs.ts), per batch.
import { replicaBatches, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { ActivationLayout } from '../peer/activation-batch.js';
import { CLASSES } from '../data/mnist.js';
import { imageShareTensors } from './image-share.js';

/**
 * The layout of the stream into the group whose first layer is `boundary`: the last upstream
 * layer's activities on positive and negative rows (ff) and on neutral rows (a softmax
 * readout downstream, or localSoftmax), plus the readout features of the upstream layers
 * below it that the readout reads; after layer 0 under ff, what its activities are made of
 * (image-share.ts). Replica `lane` of each group streams to the same replica of the next, one
 * batch of that replica's size per step.
 */
export function activationLayout(spec: ForwardForwardJobSpec, boundary: number, lane: number): ActivationLayout {
  const { layers, objective, classifier } = spec.model;
  const width = layers[boundary - 1];
  if (width === undefined || boundary >= layers.length) throw new Error(`no group starts at layer ${boundary} of ${layers.length}`);
  const rows = replicaBatches(spec)[lane]!;
  const dtype = spec.parallelism.activationDtype;
  if (boundary === 1 && objective === 'ff') return { tensors: imageShareTensors(width, CLASSES), rows, dtype };
  const readout = classifier.name === 'softmax';
  const featureWidth = readout ? layers.slice(classifier.fromLayer, boundary - 1).reduce((sum, w) => sum + w, 0) : 0;
  const tensors = [
    ...(objective === 'ff'
      ? [
          { name: 'pos', width },
          { name: 'neg', width },
        ]
      : []),
    ...(readout || objective === 'localSoftmax' ? [{ name: 'neutral', width }] : []),
    ...(featureWidth > 0 ? [{ name: 'features', width: featureWidth }] : []),
  ];
  return { tensors, rows, dtype };
}
