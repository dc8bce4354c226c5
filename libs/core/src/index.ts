export { ApiKeyStore, type ApiKeyInfo, AwsKeysUnavailableError } from './auth/api-key.store.js';
export { ApiKeysModule } from './auth/api-keys.module.js';
export { AddressLimiter } from './auth/address-limiter.js';
export { AuthModule } from './auth/auth.module.js';
export { AuthStats } from './auth/auth.stats.js';
export { CallerKeyId } from './auth/caller-key-id.decorator.js';
export { RateLimiter } from './auth/rate-limiter.repository.js';
export { RequireScope } from './auth/require-scope.decorator.js';
export { configOrExit, exitOnBootFailure, mountSwagger, serveApp } from './bootstrap/app.bootstrap.js';
export { useJsonBodies } from './bootstrap/json-body.js';
export { type AllowedBucket, type AppConfig, DEFAULT_TRAIL_FILE_MAX_BYTES } from './config/app-config.js';
export { ConfigError, loadConfig, loadEventCategories } from './config/config.loader.js';
export { APP_CONFIG } from './config/config.tokens.js';
export { CoreModule } from './core.module.js';
export { ErrorResponseDto } from './errors/error-response.dto.js';
export { ApiKeyErrorResponses, ApiNotFoundError } from './errors/api-error-responses.js';
export { healthIndicator, readinessCheck } from './health/health-indicators.js';
export { createLogger } from './logging/app.logger.js';
export { redactUrl } from './logging/redact.js';
export { categoryStatField } from './metrics/category-stats.js';
export { metricCollector, type MetricFamily } from './metrics/metric-collectors.js';
export { MetricsModule } from './metrics/metrics.module.js';
export { ProcessMetrics } from './metrics/process-metrics.js';
export { ensureRedis } from './redis/embedded-redis.js';
export { awaitReplicas, ReplicaWaitTimeoutError } from './redis/durable-write.js';
export { KeySpace } from './redis/key-space.js';
export { CLUSTER_SLOTS, keySlot } from './redis/key-slot.js';
export { slotOwner, type ClusterNodeAddress } from './redis/slot-owner.js';
export { redisRepository } from './redis/redis-repository.provider.js';
export { RedisService } from './redis/redis.service.js';
export { bullPrefix, workerConnectionOptions } from './redis/redis-connection.options.js';
export {
  closeRedis,
  connectRedis,
  RedisConnectionFactory,
  type RedisClient,
} from './redis/redis-connection.factory.js';
export { SecretDecryptionError, SecretsCipher } from './secrets/secrets-cipher.js';
