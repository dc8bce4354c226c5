export { runEvaluation } from './evaluation-report.js';
