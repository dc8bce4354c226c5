export * from './anomaly.js';
export * from './traffic-generator.js';
export * from './simulated-account.js';
export * from './lookup-events.server.js';
export * from './fault-injector.js';
export * from './simulator.factory.js';
export * from './demo-anomalies.js';
