-- state_leases without payload_json.
CREATE TABLE state_leases (scope TEXT, owner TEXT);
INSERT INTO state_leases VALUES ('gateway-owner', '7288');
