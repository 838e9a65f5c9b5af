/**
 * Parquet file names carry what the sink needs to resume (as Kafka Connect's
 * file sinks do): the source topic and partition, the first and last source
 * offsets the file's unit of work covered (inclusive; records of that range that
 * went to the DLQ have no row), and the id of the worker that wrote it.
 *
 *   embedding_input+2+00000000000000001200+00000000000000001263+3f9a61c0.parquet
 *
 * `+` cannot occur in a Kafka topic name ([a-zA-Z0-9._-]). Offsets are padded to
 * 20 digits (int64) so names sort in offset order.
 */
export interface ParquetFileName {
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
  writer: string;
}

const pattern = /^([A-Za-z0-9._-]+)\+(\d+)\+(\d{20})\+(\d{20})\+([0-9a-f]+)\.parquet$/;

export function formatFileName(f: ParquetFileName): string {
  const pad = (n: bigint) => n.toString().padStart(20, "0");
  return `${f.topic}+${f.partition}+${pad(f.firstOffset)}+${pad(f.lastOffset)}+${f.writer}.parquet`;
}

/** The parts of a sink file's name, or undefined for any other file. */
export function parseFileName(name: string): ParquetFileName | undefined {
  const m = pattern.exec(name);
  if (!m) return undefined;
  return { topic: m[1] as string, partition: Number(m[2]), firstOffset: BigInt(m[3] as string), lastOffset: BigInt(m[4] as string), writer: m[5] as string };
}

export const TMP_SUFFIX = ".tmp";
