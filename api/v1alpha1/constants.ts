// Names of the ForwardForwardJob API. Everything that builds a URL, a CRD or an object
// reads them from here so the group and version change in one place.

/** GROUP is the API group of every FFJob resource. */
export const GROUP = 'forwardforward.dev';
/** VERSION is the only served (and stored) version. */
export const VERSION = 'v1alpha1';
/** API_VERSION is what an object's apiVersion field holds. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** KIND is the object kind. */
export const KIND = 'ForwardForwardJob';
/** LIST_KIND is the kind of a list of jobs. */
export const LIST_KIND = 'ForwardForwardJobList';
/** PLURAL is the resource name in URLs: /apis/forwardforward.dev/v1alpha1/namespaces/x/forwardforwardjobs. */
export const PLURAL = 'forwardforwardjobs';
/** SINGULAR is the singular resource name kubectl accepts. */
export const SINGULAR = 'forwardforwardjob';
/** SHORT_NAMES let users type `kubectl get ffjob`. */
export const SHORT_NAMES = ['ffjob'] as const;
/** CRD_NAME is the CustomResourceDefinition's metadata.name. */
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** DEFAULT_WORKER_IMAGE is spec.worker.image's default; bump it with each release. */
export const DEFAULT_WORKER_IMAGE = 'ghcr.io/ffjob/worker:0.1.0';
/** MNIST_INPUT_SIZE is the input width of the shipped data set (28×28 pixels). */
export const MNIST_INPUT_SIZE = 784;
/**
 * DIVERGED is the `reason` of the termination message a worker leaves when a layer's loss or
 * weights stop being finite (`{"reason":"Diverged","message":…}`); the operator fails the job
 * with the same reason, since a restart from the checkpoint would diverge again.
 */
export const DIVERGED = 'Diverged';
