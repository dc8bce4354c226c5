export type { SimulatedAnomaly } from './anomaly.js';
export { demoAnomalies } from './demo-anomalies.js';
export { SimulatorServer, type SimulatorSourceStats } from './lookup-events.server.js';
export { SimulatedAccount } from './simulated-account.js';
export { createSimulator, type Simulator, simulatorOptionsFromConfig } from './simulator.factory.js';
export { TrafficGenerator, trafficRhythm } from './traffic-generator.js';
