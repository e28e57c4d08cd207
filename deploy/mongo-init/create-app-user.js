// Run once by the mongo image on an empty data volume (/docker-entrypoint-initdb.d), as
// the root user: the application user the workers log in as, with readWrite on the
// backlinks database and nothing else. The same script is in deploy/k8s/mongodb.yaml.
db.getSiblingDB("admin").createUser({
  user: "backlinks",
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWrite", db: process.env.MONGO_DATABASE || "backlinks" }],
});
