import { Injectable, Module, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { trackShutdownHooks } from './shutdown-hooks.js';

let clock = 0;

@Injectable()
class SlowToClose implements OnModuleDestroy {
  async onModuleDestroy(): Promise<void> {
    // Ends after the quick hook beside it (Nest runs one module's hooks together).
    await new Promise((resolve) => setImmediate(resolve));
    clock += 2_500;
  }
}

@Injectable()
class QuickToClose implements OnModuleDestroy {
  closed = false;
  async onModuleDestroy(): Promise<void> {
    await Promise.resolve();
    this.closed = true;
  }
}

@Injectable()
class WaitsOnADeadNode implements OnApplicationShutdown {
  release?: () => void;
  onApplicationShutdown(): Promise<void> {
    return new Promise((resolve) => (this.release = resolve));
  }
}

@Module({ providers: [SlowToClose, QuickToClose, WaitsOnADeadNode] })
class AppModule {}

describe('trackShutdownHooks', () => {
  it('names the hooks still running and those that finished slowly, not the quick ones', async () => {
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const hooks = trackShutdownHooks(app, () => clock);
    expect(hooks()).toEqual([]);

    const closing = app.close();
    const hanging = app.get(WaitsOnADeadNode);
    for (let i = 0; i < 50 && hanging.release === undefined; i++) await new Promise((resolve) => setImmediate(resolve));
    clock += 9_000;

    expect(app.get(QuickToClose).closed).toBe(true);
    expect(hooks()).toEqual([
      'SlowToClose.onModuleDestroy (took 2.5 s)',
      'WaitsOnADeadNode.onApplicationShutdown (running 9.0 s)',
    ]);
    hanging.release?.();
    await closing;
    expect(hooks()).toEqual([
      'SlowToClose.onModuleDestroy (took 2.5 s)',
      'WaitsOnADeadNode.onApplicationShutdown (took 9.0 s)',
    ]);
  });
});
