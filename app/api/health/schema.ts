import { z } from "zod";

/**
 * Query of `GET /api/health`. `degraded` picks the status code of a degraded
 * report: 503 (default, for the launcher, load balancers, `curl -f`) or 200
 * (for the console's own page, which reads the body and should not fill the
 * browser console with a failed request every poll while Kafka is down).
 */
export const healthQuerySchema = z.object({
  degraded: z.enum(["503", "200"], { error: 'expected "503" or "200"' }).default("503"),
});

export type HealthQuery = z.infer<typeof healthQuerySchema>;
