import { Injectable } from '@nestjs/common';

/** Refused requests since this process started, for GET /metrics. */
@Injectable()
export class AuthStats {
  unauthorized = 0;
  forbidden = 0;
  rateLimited = 0;
  /** Refused before any lookup: the address presented too many unknown keys. */
  addressLimited = 0;
}
