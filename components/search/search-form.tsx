"use client";

import { useState, type FormEvent } from "react";
import type { KnnRequest } from "./use-knn-query";

type Mode = "text" | "doc_id" | "vector";

/** Query by text, doc_id or vector, with k, shards, exact and filters. */
export function SearchForm({ onSearch, initial }: { onSearch: (q: KnnRequest) => void; initial?: { mode: Mode; value: string } }) {
  const [mode, setMode] = useState<Mode>(initial?.mode ?? "text");
  const [value, setValue] = useState(initial?.value ?? "");
  const [k, setK] = useState(5);
  const [shards, setShards] = useState("");
  const [exact, setExact] = useState(false);
  const [topic, setTopic] = useState("");
  const [model, setModel] = useState("");
  const [error, setError] = useState<string | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const q: KnnRequest = { k, exact };
    if (mode === "vector") {
      try {
        q.vector = JSON.parse(value) as number[];
      } catch {
        return setError("vector must be a JSON array of numbers");
      }
    } else q[mode] = value.trim();
    if (shards.trim()) q.shards = shards.split(",").map((s) => Number(s.trim()));
    if (topic.trim()) q.topic = topic.trim();
    if (model.trim()) q.model = model.trim();
    setError(null);
    onSearch(q);
  }

  const input = "rounded-md border border-line bg-surface px-2 py-1.5 text-sm";
  return (
    <form onSubmit={submit} className="grid gap-3 rounded-lg border border-line bg-surface p-4" data-testid="search-form">
      <div className="flex flex-wrap gap-2">
        <select value={mode} onChange={(e) => setMode(e.target.value as Mode)} className={input} data-testid="search-mode" aria-label="query by">
          <option value="text">text</option>
          <option value="doc_id">doc_id</option>
          <option value="vector">vector</option>
        </select>
        <input value={value} onChange={(e) => setValue(e.target.value)} placeholder={mode === "vector" ? "[0.1, 0.2, …]" : mode === "doc_id" ? "doc id" : "a sentence to search for"} className={`${input} min-w-64 flex-1`} data-testid="search-input" aria-label="query" required />
        <button type="submit" className="rounded-md bg-accent px-3 py-1.5 text-sm font-medium text-surface" data-testid="search-submit">Search</button>
      </div>
      <div className="flex flex-wrap items-center gap-3 text-xs text-muted">
        <label>k <input type="number" min={1} max={1000} value={k} onChange={(e) => setK(Number(e.target.value))} className={`${input} w-20`} data-testid="search-k" /></label>
        <label>shards <input value={shards} onChange={(e) => setShards(e.target.value)} placeholder="all (or 0,3,7)" className={`${input} w-32`} /></label>
        <label>topic <input value={topic} onChange={(e) => setTopic(e.target.value)} className={`${input} w-32`} /></label>
        <label>model <input value={model} onChange={(e) => setModel(e.target.value)} className={`${input} w-28`} /></label>
        <label className="flex items-center gap-1"><input type="checkbox" checked={exact} onChange={(e) => setExact(e.target.checked)} /> exact</label>
      </div>
      {error && <p className="text-xs text-down">{error}</p>}
    </form>
  );
}
