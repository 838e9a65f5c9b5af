import type { Metadata } from "next";
import { SearchView } from "@/components/search/search-view";

export const metadata: Metadata = { title: "Search" };

/** `/search?doc_id=…` opens with that document's neighbours (links from Shards). */
export default async function SearchPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { doc_id } = await searchParams;
  return <SearchView initialDocId={typeof doc_id === "string" && doc_id.length <= 1024 ? doc_id : undefined} />;
}
