"""RPT-2: one module per printable form. Each names its `TEMPLATE`, loads its record for a user (`load`, scoped: another
customer's record is a 404, like a missing one), states its `facts` (a JSON-able dict of everything the form says about
the record: the PDF's content hash is theirs) and its `filename`. The templates print the facts and nothing else
(plus the signature picture, whose SHA-256 is a fact), so the hash on the page is the hash of what the page says."""
