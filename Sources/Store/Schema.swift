import GRDB

/// The store's schema as a list of migrations; a database written by a newer capsize is refused.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, invocations, jobs, environments, measurements", migrate: createV1)
        migrator.registerMigration("v2: modeled provisioning and teardown of compute environments", migrate: addModeled)
        migrator.registerMigration("v3: jobs' measured wall, CPU and peak memory") { db in
            try db.alter(table: "jobs") { t in
                t.add(column: "wallSeconds", .double)
                t.add(column: "userSeconds", .double)
                t.add(column: "systemSeconds", .double)
                t.add(column: "peakRSSBytes", .integer)
            }
        }
        migrator.registerMigration("v4: jobs' container reason") { db in
            try db.alter(table: "jobs") { t in t.add(column: "reason", .text) }
        }
        migrator.registerMigration("v5: a run's owner is its process id and start time") { db in
            try db.alter(table: "runs") { t in t.add(column: "processStart", .integer) }
        }
        return migrator
    }

    /// Batch compute environments' modeled provisioning (per job and per environment) and teardown.
    private static func addModeled(_ db: Database) throws {
        try db.alter(table: "jobs") { t in
            t.add(column: "modeledProvisioningSeconds", .double)
        }
        try db.alter(table: "environments") { t in
            t.add(column: "name", .text)
            t.add(column: "modeledProvisioningSeconds", .double)
            t.add(column: "modeledTeardownAt", .double)
        }
    }

    private static func createV1(_ db: Database) throws {
        try db.create(table: "runs") { t in
            t.primaryKey("id", .text)
            t.column("kind", .text).notNull()
            t.column("commandLine", .jsonText).notNull()
            t.column("parameters", .jsonText).notNull()
            t.column("machine", .text).notNull()
            t.column("pid", .integer).notNull()
            t.column("createdAt", .double).notNull().indexed()
            t.column("finishedAt", .double)
            t.column("status", .text).notNull()
            t.column("statusReason", .text)
            t.column("planned", .integer)
            t.column("resumes", .integer).notNull().defaults(to: 0)
        }
        try db.create(table: "environments") { t in
            t.primaryKey("id", .text)
            t.column("runID", .text).notNull().indexed().references("runs", onDelete: .cascade)
            t.column("kind", .text).notNull()
            t.column("createdAt", .double).notNull()
            t.column("reapedAt", .double)
            t.column("invocationsServed", .integer).notNull()
            t.column("initDurationMs", .double)
        }
        try db.create(table: "invocations") { t in
            t.primaryKey("id", .text)
            t.column("runID", .text).notNull().indexed().references("runs", onDelete: .cascade)
            t.column("itemKey", .text)
            t.column("environmentID", .text).indexed()
            t.column("cold", .boolean).notNull()
            t.column("memoryMB", .integer).notNull()
            t.column("timeoutSeconds", .double).notNull()
            t.column("architecture", .text).notNull()
            t.column("initDurationMs", .double)
            t.column("durationMs", .double).notNull()
            t.column("billedDurationMs", .integer).notNull()
            t.column("maxMemoryUsedMB", .integer).notNull()
            t.column("status", .text).notNull()
            t.column("errorType", .text)
            t.column("errorMessage", .text)
            t.column("report", .text).notNull()
            t.column("costUSD", .double).notNull()
            t.column("startedAt", .double).notNull()
            t.column("endedAt", .double).notNull()
        }
        try db.create(table: "jobs") { t in
            t.primaryKey("id", .text)
            t.column("runID", .text).notNull().indexed().references("runs", onDelete: .cascade)
            t.column("itemKey", .text)
            t.column("name", .text).notNull()
            t.column("queue", .text)
            t.column("arrayParentID", .text).indexed()
            t.column("arrayIndex", .integer)
            t.column("dependsOn", .jsonText).notNull()
            t.column("attempt", .integer).notNull()
            t.column("state", .text).notNull()
            t.column("statusReason", .text)
            t.column("exitCode", .integer)
            t.column("vcpus", .double).notNull()
            t.column("memoryMiB", .integer).notNull()
            t.column("gpus", .integer).notNull()
            t.column("environmentID", .text)
            t.column("logPath", .text)
            t.column("submittedAt", .double).notNull()
            t.column("pendingAt", .double)
            t.column("runnableAt", .double)
            t.column("startingAt", .double)
            t.column("runningAt", .double)
            t.column("stoppedAt", .double)
        }
        try db.create(table: "measurements") { t in
            t.column("runID", .text).notNull().references("runs", onDelete: .cascade)
            t.column("itemKey", .text).notNull()
            t.primaryKey(["runID", "itemKey"])
            t.column("metrics", .jsonText).notNull()
            t.column("seconds", .double).notNull()
            t.column("flops", .double).notNull()
            t.column("checksum", .text)
            t.column("details", .jsonText)
            t.column("startedAt", .double).notNull()
            t.column("endedAt", .double).notNull()
        }
    }
}
