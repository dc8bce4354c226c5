export { runEvaluation } from './evaluation-report.js';
export { loadNabDataSets, scoreNabCategory } from './nab-benchmark.js';
