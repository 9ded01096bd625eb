DROP TABLE merger_offers;
