// Every workflow the control role registers.
export { ping } from './ping.workflow';
export { livestream } from './livestream.workflow';
export { compositeRecording, individualRecording } from './recording.workflow';
export { mediaRegistry } from './media-registry.workflow';
export { clip } from './clip.workflow';
