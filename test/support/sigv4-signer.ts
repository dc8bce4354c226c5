import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

type Bytes = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: Exclude<Bytes, string>): Buffer {
  return data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 (and HMAC) over node:crypto in the Checksum shape SignatureV4 takes (the SDK passes its own). */
class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret?: string | Buffer;

  constructor(secret?: Bytes) {
    this.secret = secret === undefined || typeof secret === 'string' ? secret : toBuffer(secret);
    this.hash = this.fresh();
  }

  update(data: Bytes): void {
    this.hash.update(typeof data === 'string' ? data : toBuffer(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

/** AWS's own SigV4 signer (the one inside the JavaScript SDK), for hand-made requests in tests. */
export function awsSigner(options: {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
}): SignatureV4 {
  return new SignatureV4({
    service: options.service ?? 'cloudtrail',
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    sha256: Sha256,
  });
}
