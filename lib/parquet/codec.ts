import { tableFromIPC, tableToIPC, type Table as ArrowTable } from "apache-arrow";
import { Compression, Table as WasmTable, WriterPropertiesBuilder, readParquet, writeParquet } from "parquet-wasm";

/**
 * Arrow ⇄ Parquet through parquet-wasm (Rust's parquet crate in WebAssembly).
 * Snappy: vectors are float noise that no codec shrinks much, and snappy is the
 * cheapest to write and the one every reader has.
 */
export function toParquet(table: ArrowTable): Uint8Array {
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setCreatedBy("embedline").build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, "stream")), props);
}

export function fromParquet(bytes: Uint8Array): ArrowTable {
  return tableFromIPC(readParquet(bytes).intoIPCStream());
}
