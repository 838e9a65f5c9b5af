import type { Metadata } from "next";
import { Suspense } from "react";
import { TopicMessagesView } from "@/components/topics/messages-view";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `${(await params).name} · Topics` };
}

/** `/topics/{name}?partition=&offset=&timestamp=&key=&limit=`: the view reads its query from the URL. */
export default async function TopicPage({ params }: Props) {
  const { name } = await params;
  return (
    <Suspense>
      <TopicMessagesView key={name} name={name} />
    </Suspense>
  );
}
