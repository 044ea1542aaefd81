-- Programs side by side: referrers belong to programs, and links and payout runs name theirs;
-- what exists belongs to its installation's default program.
CREATE TABLE "referrer_programs" (
	"program_id" text NOT NULL,
	"referrer_id" text NOT NULL,
	"installation_id" text NOT NULL,
	"created_at" text DEFAULT to_char(statement_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') NOT NULL,
	CONSTRAINT "referrer_programs_program_id_referrer_id_pk" PRIMARY KEY("program_id","referrer_id")
);
--> statement-breakpoint
INSERT INTO "referrer_programs" ("program_id", "referrer_id", "installation_id", "created_at")
  SELECT "p"."id", "r"."id", "r"."installation_id", "r"."created_at" FROM "referrers" "r"
  JOIN "programs" "p" ON "p"."installation_id" = "r"."installation_id" AND "p"."is_default";--> statement-breakpoint
ALTER TABLE "payout_runs" ADD COLUMN "program_id" text;--> statement-breakpoint
UPDATE "payout_runs" SET "program_id" = (SELECT "p"."id" FROM "programs" "p" WHERE "p"."installation_id" = "payout_runs"."installation_id" AND "p"."is_default");--> statement-breakpoint
ALTER TABLE "payout_runs" ALTER COLUMN "program_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "referral_links" ADD COLUMN "program_id" text;--> statement-breakpoint
UPDATE "referral_links" SET "program_id" = (SELECT "p"."id" FROM "programs" "p" WHERE "p"."installation_id" = "referral_links"."installation_id" AND "p"."is_default");--> statement-breakpoint
ALTER TABLE "referral_links" ALTER COLUMN "program_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "referrer_programs" ADD CONSTRAINT "referrer_programs_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrer_programs" ADD CONSTRAINT "referrer_programs_referrer_id_referrers_id_fk" FOREIGN KEY ("referrer_id") REFERENCES "public"."referrers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrer_programs" ADD CONSTRAINT "referrer_programs_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "referrer_programs_referrer" ON "referrer_programs" USING btree ("referrer_id");--> statement-breakpoint
ALTER TABLE "payout_runs" ADD CONSTRAINT "payout_runs_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_links" ADD CONSTRAINT "referral_links_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;