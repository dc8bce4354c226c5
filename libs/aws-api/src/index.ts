export { AwsApiModule } from './aws-api.module.js';
