"""Service issues (#23 item 2, SPEC W-9): a customer opens an issue with the merchant and follows
its thread; the merchant's admins answer from an inbox. Models, attachments and services; the
widget and the admin are its faces. Named "service issue" so as not to mean the project tracker."""
