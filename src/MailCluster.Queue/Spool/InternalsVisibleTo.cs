using System.Runtime.CompilerServices;

// The spool tests open the SQLite store's own connections (to check its PRAGMAs) and inject batch failures.
[assembly: InternalsVisibleTo("MailCluster.Queue.Tests")]
