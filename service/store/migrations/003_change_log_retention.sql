-- Change-log retention: the service prunes the oldest rows of change_log
-- (by age and by count), always a prefix of the log. `through` is the
-- newest revision pruned: every change after it is still held, so a reader
-- asking for changes after a revision below it must resynchronise.
CREATE TABLE change_log_pruned (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    through bigint NOT NULL
);
INSERT INTO change_log_pruned VALUES (true, 0);
