"""Excel workbooks of project figures: the ledger (台账), the monthly bulletin (月通报), the
"三个一批" batch report and the approval-procedure matrix; and the ledger import."""
