import { Bool, Field, Float32, Float64, Int32, Int64, List, RecordBatch, Schema, Struct, Table, Utf8, makeBuilder, makeData, type Data, type DataType } from "apache-arrow";

/**
 * One Parquet row: the emitted embedding record (or its privacy form, with
 * `text_sha256`/`text_len` instead of `text`) plus where it was read from.
 */
export interface EmbeddingRow {
  topic: string | null;
  text?: string;
  text_sha256?: string;
  text_len?: number;
  doc_id: string;
  vector: number[];
  kafka_ts: number | null;
  embedded_ts: number;
  model: string;
  dim: number;
  normalized: boolean;
  source_partition: number;
  source_offset: string;
}

/**
 * `vector` is `list<float>` (32-bit, elements non-null), the layout DuckDB,
 * pyarrow and Spark all read as an array of floats. float32 halves the files
 * against float64 and is what the models compute in anyway.
 */
const vectorType = new List(new Field("element", new Float32(), false));

export function embeddingSchema(storeText: boolean): Schema {
  const textFields = storeText
    ? [new Field("text", new Utf8(), false)]
    : [new Field("text_sha256", new Utf8(), false), new Field("text_len", new Int32(), false)];
  return new Schema([
    new Field("topic", new Utf8(), true),
    ...textFields,
    new Field("doc_id", new Utf8(), false),
    new Field("vector", vectorType, false),
    new Field("kafka_ts", new Float64(), true),
    new Field("embedded_ts", new Float64(), false),
    new Field("model", new Utf8(), false),
    new Field("dim", new Int32(), false),
    new Field("normalized", new Bool(), false),
    new Field("source_partition", new Int32(), false),
    new Field("source_offset", new Int64(), false),
  ]);
}

/** A row without its vector: what travels to the encoder thread next to the flat vectors. */
export type EmbeddingRowMeta = Omit<EmbeddingRow, "vector">;

/** All rows' vectors in one Float32Array; row i is values[offsets[i]..offsets[i+1]). */
export interface FlatVectors {
  offsets: Int32Array;
  values: Float32Array;
}

export function flattenVectors(rows: readonly { vector: readonly number[] }[]): FlatVectors {
  const offsets = new Int32Array(rows.length + 1);
  let total = 0;
  rows.forEach((r, i) => {
    total += r.vector.length;
    offsets[i + 1] = total;
  });
  const values = new Float32Array(total);
  rows.forEach((r, i) => values.set(r.vector, offsets[i]));
  return { offsets, values };
}

/** The vectors as one List column built straight from the flat arrays (no per-row objects). */
function vectorColumn({ offsets, values }: FlatVectors): Data<List<Float32>> {
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  return makeData({ type: vectorType, length: offsets.length - 1, nullCount: 0, valueOffsets: offsets, child });
}

/** One column as a single Data chunk (a builder never splits it, unlike vectorFromArray). */
function column<T extends DataType>(type: T, values: readonly unknown[]): Data<T> {
  const builder = makeBuilder({ type, nullValues: [null, undefined] });
  for (const v of values) builder.append(v as never);
  return builder.finish().flush();
}

/** Rows → an Arrow table in the sink's schema. */
export function embeddingTable(rows: readonly EmbeddingRow[], storeText: boolean): Table {
  return embeddingTableOf(rows, flattenVectors(rows), storeText);
}

/** Rows without vectors plus their flat vectors → an Arrow table in the sink's schema. */
export function embeddingTableOf(rows: readonly EmbeddingRowMeta[], vectors: FlatVectors, storeText: boolean): Table {
  const schema = embeddingSchema(storeText);
  const pick = (f: (r: EmbeddingRowMeta) => unknown) => rows.map(f);
  const plain = (type: Int32 | Float64 | Int64, values: Int32Array | Float64Array | BigInt64Array) => makeData({ type, length: rows.length, nullCount: 0, data: values } as never) as Data;
  // Thunks: only the schema's columns are built (text or its privacy form).
  const columns: Record<string, () => Data> = {
    topic: () => column(new Utf8(), pick((r) => r.topic)),
    doc_id: () => column(new Utf8(), pick((r) => r.doc_id)),
    vector: () => vectorColumn(vectors),
    kafka_ts: () => column(new Float64(), pick((r) => r.kafka_ts)),
    embedded_ts: () => plain(new Float64(), Float64Array.from(rows, (r) => r.embedded_ts)),
    model: () => column(new Utf8(), pick((r) => r.model)),
    dim: () => plain(new Int32(), Int32Array.from(rows, (r) => r.dim)),
    normalized: () => column(new Bool(), pick((r) => r.normalized)),
    source_partition: () => plain(new Int32(), Int32Array.from(rows, (r) => r.source_partition)),
    source_offset: () => plain(new Int64(), BigInt64Array.from(rows, (r) => BigInt(r.source_offset))),
    text: () => column(new Utf8(), pick((r) => r.text ?? "")),
    text_sha256: () => column(new Utf8(), pick((r) => r.text_sha256 ?? "")),
    text_len: () => plain(new Int32(), Int32Array.from(rows, (r) => r.text_len ?? 0)),
  };
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children: schema.fields.map((f) => columns[f.name]!()) });
  return new Table(schema, [new RecordBatch(schema, data)]);
}
