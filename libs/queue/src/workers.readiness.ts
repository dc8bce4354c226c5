import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/**
 * `GET /health/ready` of a process with BullMQ workers (the detector): ready only while every
 * worker of the app runs. A worker that stopped (closed, or its run loop ended) takes no jobs,
 * so the process should be replaced even though it still answers HTTP. No workers: ready.
 */
@Injectable()
export class WorkersReadiness implements OnApplicationBootstrap {
  private hosts: WorkerHost[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    this.hosts = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is WorkerHost => instance instanceof WorkerHost);
  }

  running(): boolean {
    return this.hosts.every((host) => {
      try {
        return host.worker.isRunning();
      } catch {
        return false; // not initialised (yet)
      }
    });
  }
}
