import type { WireFormat } from "../types";
import { infermeshWire } from "./infermesh";
import { ollamaWire } from "./ollama";
import { openaiWire } from "./openai";
import { teiWire } from "./tei";

export type ProviderName = "infermesh" | "tei" | "openai" | "ollama";

export const wireFormats: Record<ProviderName, WireFormat> = {
  infermesh: infermeshWire,
  tei: teiWire,
  openai: openaiWire,
  ollama: ollamaWire,
};
