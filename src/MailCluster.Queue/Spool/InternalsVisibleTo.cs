using System.Runtime.CompilerServices;

// The queue's tests use its internals; the spool driver tests inject batch failures (BeforeCommitForTests).
[assembly: InternalsVisibleTo("MailCluster.Queue.Tests")]
[assembly: InternalsVisibleTo("MailCluster.Storage.Tests")]

// The storage drivers (SQLite, PostgreSQL) implement GroupCommitSpoolStore's batch contract (SpoolOp, SpoolLog):
// it stays internal to the spool so that no other project depends on how a batch is shaped.
[assembly: InternalsVisibleTo("MailCluster.Storage")]
