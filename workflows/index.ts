// Every workflow the control role registers.
export { ping } from './ping.workflow';
