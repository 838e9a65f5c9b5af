export { ParquetSink, type UnitRange } from "./sink";
export { embeddingSchema, embeddingTable, type EmbeddingRow } from "./embedding-table";
export { toParquet, fromParquet } from "./codec";
export { formatFileName, parseFileName, type ParquetFileName } from "./file-name";
