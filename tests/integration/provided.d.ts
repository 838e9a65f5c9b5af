// Values the integration global setup hands to every test file (`inject(...)`).
export {};

declare module "vitest" {
  export interface ProvidedContext {
    /** Bootstrap servers of the Kafka cluster under test (local 4.x broker or KAFKA_BOOTSTRAP_SERVERS). */
    kafkaBrokers: string[];
  }
}
