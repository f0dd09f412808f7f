using System.Runtime.CompilerServices;

// The spool tests open the SQLite store's own connections (to check its PRAGMAs) and inject batch failures.
[assembly: InternalsVisibleTo("MailCluster.Queue.Tests")]

// The storage drivers (SQLite, PostgreSQL) implement GroupCommitSpoolStore's batch contract (SpoolOp, SpoolLog):
// it stays internal to the spool so that no other project depends on how a batch is shaped.
[assembly: InternalsVisibleTo("MailCluster.Storage")]
