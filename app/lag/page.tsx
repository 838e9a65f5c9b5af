import type { Metadata } from "next";
import { LagView } from "@/components/lag/lag-view";

export const metadata: Metadata = { title: "Lag" };

export default function LagPage() {
  return <LagView />;
}
