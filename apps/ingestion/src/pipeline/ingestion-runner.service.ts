import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { MqttConsumer } from '../mqtt/mqtt-consumer.service.js';
import { BatchWriter } from '../storage/batch-writer.service.js';
import { IngestPipeline } from './ingest-pipeline.service.js';

/**
 * Wires the MQTT session to the pipeline at start-up, and shuts down without losing anything:
 * stop consuming, write what was received, acknowledge it, disconnect (the session stays).
 */
@Injectable()
export class IngestionRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Ingestion');

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly consumer: MqttConsumer,
    private readonly pipeline: IngestPipeline,
    private readonly writer: BatchWriter,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: the broker may come up later; the consumer reconnects until it does.
    void this.consumer.start((message) => this.pipeline.handle(message));
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(
      `shutting down${signal ? ` (${signal})` : ''}: flushing ${this.consumer.pending} unacknowledged messages`,
    );
    this.consumer.stopConsuming();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs)),
    );
    const result = await Promise.race([
      this.writer.drain().then(() => 'drained' as const),
      deadline,
    ]);
    clearTimeout(timer);
    if (result === 'timeout') {
      // Whatever is not stored stays unacknowledged: the broker redelivers it to the next session.
      this.logger.warn(
        `not everything was stored within ${this.config.shutdownTimeoutMs} ms; the broker will redeliver the rest`,
      );
      this.writer.close();
    }
    await this.consumer.stop();
  }
}
