// KhAcls: creates the ACLs read from stdin, one per line as `ketenhub topics
// acls` prints them (principal, operation, resource type, literal|prefixed,
// name; tab-separated), with Kafka's Java admin client, on the cluster the
// client properties file (first argument) names. kafka.sh acls runs it:
// librdkafka 2.0.2 cannot create transactional-id ACLs. Idempotent (Kafka
// ignores an ACL it already has). Prints "created N acls"; exits 1 naming the
// first line Kafka refused.
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KhAcls {
    static AclBinding parse(String line) {
        String[] f = line.split("\t");
        if (f.length != 5)
            throw new IllegalArgumentException("expected 5 tab-separated fields: " + line);
        ResourceType type = ResourceType.fromString(f[2].replace('-', '_').toUpperCase(Locale.ROOT));
        PatternType pattern = PatternType.fromString(f[3].toUpperCase(Locale.ROOT));
        AclOperation op = AclOperation.fromString(f[1].toUpperCase(Locale.ROOT));
        if (type == ResourceType.UNKNOWN || pattern == PatternType.UNKNOWN || op == AclOperation.UNKNOWN)
            throw new IllegalArgumentException("unknown operation, resource or pattern type: " + line);
        return new AclBinding(new ResourcePattern(type, f[4], pattern),
                new AccessControlEntry(f[0], "*", op, AclPermissionType.ALLOW));
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) {
            props.load(in);
        }
        List<AclBinding> acls = new ArrayList<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; )
            if (!line.isBlank())
                acls.add(parse(line));
        try (Admin admin = Admin.create(props)) {
            admin.createAcls(acls).all().get();
        }
        System.out.println("created " + acls.size() + " acls");
    }
}
