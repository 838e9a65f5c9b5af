"use client";

import type { EmbedWorkerEvent, LagEvent } from "@/components/live/stream-types";
import { useStream } from "@/components/live/use-stream";
import { DlqCountStat } from "@/components/dlq/dlq-count-stat";
import { NotInUseCard } from "@/components/health/not-in-use-card";
import { SupervisorCard } from "@/components/health/supervisor-card";
import { useHealthQuery } from "@/components/health/use-health-query";
import { Card } from "@/components/ui/card";
import { formatCount, formatRate } from "@/components/ui/format";
import { Stat, StatGrid } from "@/components/ui/stat";
import { PipelineDiagram } from "./pipeline-diagram";
import { PipelineStages } from "./pipeline-stages-card";
import { QuickSearch } from "./quick-search";

export function OverviewView() {
  const worker = useStream<EmbedWorkerEvent>("embed-worker").latest;
  const lag = useStream<LagEvent>("lag").latest;
  // Restarts and last exits of the processes `npm start` supervises (from /api/health).
  const supervisor = useHealthQuery().data?.supervisor;
  // Components this stack does not run (Spark beside the parse worker, RedDB unset): grey, with why.
  const components = useHealthQuery().data?.components;
  const m = worker && "metrics" in worker ? worker : undefined;
  return (
    <div className="grid gap-4" data-testid="overview-page">
      <h1 className="text-lg font-semibold">Overview</h1>
      <PipelineDiagram />
      <PipelineStages />
      <Card title="Pipeline now">
        <StatGrid>
          <Stat label="embedded/s" value={m ? formatRate(m.rates.records_out_per_sec) : worker ? "unreachable" : "—"} data-testid="overview-rate" />
          <Stat label="consumer lag" value={lag && "total_lag" in lag ? (lag.total_lag === 0 ? "0 · caught up" : `${formatCount(lag.total_lag)} records`) : lag ? "unreachable" : "—"} title="Records the consumer groups have still to consume (transaction markers and aborted records not counted)" data-testid="overview-lag" />
          <DlqCountStat data-testid="overview-dlq" />
          <Stat label="embedded total" value={m ? formatCount(m.metrics.records_out) : "—"} />
        </StatGrid>
      </Card>
      <SupervisorCard report={supervisor} />
      <NotInUseCard components={components} />
      <QuickSearch />
    </div>
  );
}
