-- Deleted tickets leave the tag index (searches driven by it never meet
-- them); clean up tags of tickets deleted before this rule.
DELETE FROM ticket_tags WHERE ticket_id IN (SELECT id FROM tickets WHERE deleted = 1);
