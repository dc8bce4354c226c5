// s3rver in its own process: started with --openssl-legacy-provider, since s3rver's listing
// continuation tokens use DES, which Node 20's OpenSSL 3 only offers through the legacy provider.
// argv[2] = data directory. Prints {"port": n} once listening; exits on SIGTERM or disconnect.
import S3rver from 's3rver';

const server = new S3rver({ port: 0, address: '127.0.0.1', directory: process.argv[2], silent: true });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
const stop = () => void server.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
