export * from './records/insight-record.js';
export * from './records/insight-record.builder.js';
export * from './records/insight-record.schema.js';
export * from './records/insight-record.validator.js';
export * from './findings/finding.js';
export * from './findings/findings.repository.js';
export * from './findings.module.js';
