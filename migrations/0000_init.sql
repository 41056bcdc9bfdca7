CREATE TABLE `attempts` (
	`execution_id` text NOT NULL,
	`n` integer NOT NULL,
	`started_at` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`status` integer,
	`outcome` text NOT NULL,
	`error` text,
	PRIMARY KEY(`execution_id`, `n`),
	FOREIGN KEY (`execution_id`) REFERENCES `executions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`component` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`details` text NOT NULL,
	`sealed_secrets` text NOT NULL,
	`sealed_previous` text,
	`previous_expires_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `executions` (
	`id` text PRIMARY KEY NOT NULL,
	`flow_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`received_at` integer NOT NULL,
	`finished_at` integer,
	`attempt_count` integer DEFAULT 0 NOT NULL,
	`duration_ms` integer,
	`input` text,
	`request` text,
	`response` text,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `executions_flow_received` ON `executions` (`flow_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `executions_flow_status` ON `executions` (`flow_id`,`status`);--> statement-breakpoint
CREATE TABLE `flow_versions` (
	`flow_id` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`flow_id`, `version`),
	FOREIGN KEY (`flow_id`) REFERENCES `flows`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `flows` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`draft` text,
	`live_version` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
