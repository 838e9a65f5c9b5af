import type { Metadata } from "next";
import { ShardsView } from "@/components/shards/shards-view";

export const metadata: Metadata = { title: "Shards" };

export default function ShardsPage() {
  return <ShardsView />;
}
