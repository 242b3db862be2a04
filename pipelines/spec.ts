// Pipelines as data: what the pure builders (pipelines/builders/) produce and the pipeline host
// instantiates with GStreamer. Plain JSON, so builders are snapshot-testable without GStreamer.

/** A property value; the host sets it from its string form (Gst.utilSetObjectArg), so enums,
 * flags, caps and structures are written as gst-launch would write them. */
export type PropValue = string | number | boolean;

export interface ElementSpec {
  /** Unique within the pipeline; per-host branches prefix it with the host id. */
  name: string;
  factory: string;
  props?: Record<string, PropValue>;
}

export interface LinkSpec {
  from: string;
  to: string;
  /** Request pad template on `to` (e.g. `sink_%u`, `audio_%u`) or a static pad name. */
  toPad?: string;
  /** Properties set on the requested sink pad (compositor xpos/ypos/width/height/zorder/alpha). */
  toPadProps?: Record<string, PropValue>;
}

export interface PipelineSpec {
  elements: ElementSpec[];
  /** Chains are linked in order; a link into a request pad requests it. */
  links: LinkSpec[];
}

/** A per-host part of a composite, added and removed while the pipeline plays. */
export interface BranchSpec extends PipelineSpec {
  hostId: string;
  /** Links into elements of the main pipeline (aggregator request pads), made after the branch is linked internally. */
  outputs: LinkSpec[];
}

/** Chains a list of element specs into links a→b→c. */
export function chain(names: string[]): LinkSpec[] {
  const links: LinkSpec[] = [];
  for (let i = 1; i < names.length; i++) links.push({ from: names[i - 1]!, to: names[i]! });
  return links;
}
